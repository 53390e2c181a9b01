// What the API server checks in a Pod or Secret body: the OpenAPI schema (through kubernetes-models'
// validators: a wrong JSON type is a 400 decoding error, a missing or out-of-enum field a 422), then
// the checks of the server's validation code that the schema cannot express: DNS-1123 names, label
// syntax, unique container names, volume mounts naming a volume, env var names, requests ≤ limits,
// secret keys and size, and which fields an update may change.
import { Pod as PodModel } from "kubernetes-models/v1/Pod";
import { Secret as SecretModel } from "kubernetes-models/v1/Secret";
import { parseQuantity } from "./kubernetes-quantity";
import { isLabelKey, isLabelValue } from "./kubernetes-selectors";
import {
  ApiError,
  badRequest,
  fieldDuplicate,
  fieldForbidden,
  fieldInvalid,
  fieldNotFound,
  fieldRequired,
  fieldTooLong,
  invalid,
  type StatusCause,
} from "./kubernetes-status";
import type { ContainerSpec, KubeObject, Pod, Secret } from "./kubernetes-types";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const DNS_LABEL_WHY = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS_SUBDOMAIN_WHY = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

interface Model {
  validate(): void;
}

/** Schema check: throws the 400 a decoding error gives; returns the 422 causes. */
function schemaCauses(model: Model, kind: string): StatusCause[] {
  try {
    model.validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: Array<{ instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }> }).errors;
    if (!errors) throw error;
    const decoding = errors.find((entry) => ["type", "format", "oneOf"].includes(entry.keyword));
    if (decoding) throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${fieldPath(decoding.instancePath)}: ${decoding.message ?? decoding.keyword}`);
    return errors.map((entry) => {
      if (entry.keyword === "required") {
        const parent = fieldPath(entry.instancePath);
        const missing = String(entry.params.missingProperty);
        return fieldRequired(parent === "" ? missing : `${parent}.${missing}`);
      }
      if (entry.keyword === "enum") {
        const allowed = (entry.params.allowedValues as unknown[]).map((value) => JSON.stringify(value)).join(", ");
        return { reason: "FieldValueNotSupported", message: `Unsupported value: supported values: ${allowed}`, field: fieldPath(entry.instancePath) };
      }
      return { reason: "FieldValueInvalid", message: entry.message ?? entry.keyword, field: fieldPath(entry.instancePath) };
    });
  }
}

/** "/spec/containers/0/name" → "spec.containers[0].name" */
function fieldPath(instancePath: string): string {
  return instancePath
    .split("/")
    .filter((part) => part !== "")
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join("")
    .replace(/^\./, "");
}

function metadataCauses(object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const { name, labels, annotations, ownerReferences } = object.metadata ?? {};
  if (typeof name !== "string" || name === "") causes.push({ reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" });
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) causes.push(fieldInvalid("metadata.name", name, DNS_SUBDOMAIN_WHY));
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!isLabelKey(key)) causes.push(fieldInvalid("metadata.labels", key, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    if (!isLabelValue(value)) causes.push(fieldInvalid("metadata.labels", value, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and be at most 63 characters"));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!isLabelKey(key)) causes.push(fieldInvalid("metadata.annotations", key, "name part must consist of alphanumeric characters, '-', '_' or '.'"));
    annotationBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (annotationBytes > 256 * 1024) causes.push(fieldTooLong("metadata.annotations", 256 * 1024));
  if ((ownerReferences ?? []).filter((reference) => reference.controller).length > 1) {
    causes.push(fieldInvalid("metadata.ownerReferences", ownerReferences, "Only one reference can have Controller set to true"));
  }
  return causes;
}

function containerCauses(container: ContainerSpec, field: string, volumes: Set<string>): StatusCause[] {
  const causes: StatusCause[] = [];
  if (typeof container.name === "string" && !DNS_LABEL.test(container.name)) causes.push(fieldInvalid(`${field}.name`, container.name, DNS_LABEL_WHY));
  if (!container.image) causes.push(fieldRequired(`${field}.image`));
  (container.env ?? []).forEach((variable, index) => {
    const at = `${field}.env[${index}]`;
    if (!ENV_NAME.test(variable.name ?? "")) causes.push(fieldInvalid(`${at}.name`, variable.name, "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"));
    if (variable.value && variable.valueFrom) causes.push(fieldInvalid(`${at}.valueFrom`, "", "may not be specified when `value` is not empty"));
    const reference = variable.valueFrom?.secretKeyRef;
    if (reference && !reference.name) causes.push(fieldRequired(`${at}.valueFrom.secretKeyRef.name`));
    if (reference && !CONFIG_KEY.test(reference.key)) causes.push(fieldInvalid(`${at}.valueFrom.secretKeyRef.key`, reference.key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
  });
  const mountPaths = new Set<string>();
  (container.volumeMounts ?? []).forEach((mount, index) => {
    const at = `${field}.volumeMounts[${index}]`;
    if (!volumes.has(mount.name)) causes.push(fieldNotFound(`${at}.name`, mount.name));
    if (!mount.mountPath) causes.push(fieldRequired(`${at}.mountPath`));
    else if (mountPaths.has(mount.mountPath)) causes.push(fieldInvalid(`${at}.mountPath`, mount.mountPath, "must be unique"));
    mountPaths.add(mount.mountPath);
  });
  (container.ports ?? []).forEach((port, index) => {
    if (!(port.containerPort >= 1 && port.containerPort <= 65535)) causes.push(fieldInvalid(`${field}.ports[${index}].containerPort`, port.containerPort, "must be between 1 and 65535, inclusive"));
  });
  for (const [resource, limitText] of Object.entries(container.resources?.limits ?? {})) {
    const requestText = container.resources?.requests?.[resource];
    const limit = parseQuantity(limitText);
    const request = requestText === undefined ? undefined : parseQuantity(requestText);
    if (limit !== undefined && request !== undefined && request > limit) {
      causes.push(fieldInvalid(`${field}.resources.requests`, String(requestText), `must be less than or equal to ${resource} limit of ${limitText}`));
    }
  }
  return causes;
}

function podSpecCauses(pod: Pod): StatusCause[] {
  const spec = pod.spec;
  if (!spec || !Array.isArray(spec.containers) || spec.containers.length === 0) return [fieldRequired("spec.containers")];
  const causes: StatusCause[] = [];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((volume, index) => {
    if (!DNS_LABEL.test(volume.name ?? "")) causes.push(fieldInvalid(`spec.volumes[${index}].name`, volume.name, DNS_LABEL_WHY));
    if (volumes.has(volume.name)) causes.push(fieldDuplicate(`spec.volumes[${index}].name`, volume.name));
    volumes.add(volume.name);
  });
  const names = new Set<string>();
  const groups: Array<[string, ContainerSpec[]]> = [["spec.initContainers", spec.initContainers ?? []], ["spec.containers", spec.containers]];
  for (const [group, containers] of groups) {
    containers.forEach((container, index) => {
      const field = `${group}[${index}]`;
      if (names.has(container.name)) causes.push(fieldDuplicate(`${field}.name`, container.name));
      names.add(container.name);
      causes.push(...containerCauses(container, field, volumes));
    });
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds < 1) causes.push(fieldInvalid("spec.activeDeadlineSeconds", spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive"));
  return causes;
}

export function validatePod(pod: Pod, old?: Pod): void {
  const causes = [...schemaCauses(new PodModel(pod as never), "Pod"), ...metadataCauses(pod), ...podSpecCauses(pod)];
  if (old) causes.push(...podUpdateCauses(pod, old));
  if (causes.length > 0) throw invalid("Pod", pod.metadata?.name ?? "", causes);
}

/** Pod specs are immutable but for images, activeDeadlineSeconds and added tolerations. */
function podUpdateCauses(pod: Pod, old: Pod): StatusCause[] {
  const mutable = (spec: Pod["spec"]) => ({
    ...spec,
    containers: spec.containers.map((container) => ({ ...container, image: "" })),
    initContainers: spec.initContainers?.map((container) => ({ ...container, image: "" })),
    activeDeadlineSeconds: undefined,
    tolerations: undefined,
  });
  if (JSON.stringify(mutable(pod.spec)) === JSON.stringify(mutable(old.spec))) return [];
  return [fieldForbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")];
}

export function validateSecret(secret: Secret, old?: Secret): void {
  const causes = [...schemaCauses(new SecretModel(secret as never), "Secret"), ...metadataCauses(secret)];
  let bytes = 0;
  for (const [field, values] of [["data", secret.data], ["stringData", secret.stringData]] as const) {
    for (const [key, value] of Object.entries(values ?? {})) {
      if (!CONFIG_KEY.test(key) || key.length > 253) causes.push(fieldInvalid(`${field}[${key}]`, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      bytes += field === "data" ? Buffer.from(value, "base64").length : Buffer.byteLength(value);
    }
  }
  if (bytes > 1024 * 1024) causes.push(fieldTooLong("data", 1024 * 1024));
  if (old && (old.type ?? "Opaque") !== (secret.type ?? "Opaque")) causes.push(fieldInvalid("type", secret.type, "field is immutable"));
  if (old?.immutable && JSON.stringify(old.data ?? {}) !== JSON.stringify(secret.data ?? {})) causes.push(fieldForbidden("data", "field is immutable when `immutable` is set"));
  if (causes.length > 0) throw invalid("Secret", secret.metadata?.name ?? "", causes);
}

/** The namespace in the body, when there is one, must be the request's. */
export function checkNamespace(object: KubeObject, namespace: string): void {
  if (typeof object !== "object" || object === null || Array.isArray(object)) throw badRequest("the body of the request is not a JSON object");
  if (typeof object.metadata !== "object" || object.metadata === null) object.metadata = { name: "" };
  const given = object.metadata.namespace;
  if (given !== undefined && given !== "" && given !== namespace) {
    throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the namespace of the provided object does not match the namespace sent on the request", reason: "BadRequest", code: 400 });
  }
  object.metadata.namespace = namespace;
}
