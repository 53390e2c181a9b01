// Per-resource behaviour of the stand-in's REST handlers: the fields a field selector may name, and
// what the server does to a new or updated object — pod defaulting and the ServiceAccount admission
// plugin (a projected token volume unless automountServiceAccountToken is false), pod status owned by
// the kubelet, Secret stringData folded into base64 data.
import { randomBytes } from "node:crypto";
import { qosClass } from "./kubernetes-pod-status";
import type { FieldReaders } from "./kubernetes-selectors";
import type { ContainerSpec, CoreEvent, KubeObject, Pod, Secret } from "./kubernetes-types";

const metadataFields: FieldReaders = {
  "metadata.name": (object) => object.metadata.name,
  "metadata.namespace": (object) => object.metadata.namespace,
};

export const POD_FIELDS: FieldReaders = {
  ...metadataFields,
  "spec.nodeName": (object) => (object as Pod).spec.nodeName ?? "",
  "spec.restartPolicy": (object) => (object as Pod).spec.restartPolicy,
  "spec.schedulerName": (object) => (object as Pod).spec.schedulerName as string | undefined,
  "spec.serviceAccountName": (object) => (object as Pod).spec.serviceAccountName as string | undefined,
  "status.phase": (object) => (object as Pod).status.phase,
  "status.podIP": (object) => (object as Pod).status.podIP ?? "",
  "status.nominatedNodeName": () => "",
};

export const SECRET_FIELDS: FieldReaders = {
  ...metadataFields,
  type: (object) => (object as Secret).type,
};

export const EVENT_FIELDS: FieldReaders = {
  ...metadataFields,
  "involvedObject.kind": (object) => (object as CoreEvent).involvedObject.kind,
  "involvedObject.namespace": (object) => (object as CoreEvent).involvedObject.namespace,
  "involvedObject.name": (object) => (object as CoreEvent).involvedObject.name,
  "involvedObject.uid": (object) => (object as CoreEvent).involvedObject.uid,
  "involvedObject.apiVersion": (object) => (object as CoreEvent).involvedObject.apiVersion,
  "involvedObject.resourceVersion": (object) => (object as CoreEvent).involvedObject.resourceVersion ?? "",
  "involvedObject.fieldPath": (object) => (object as CoreEvent).involvedObject.fieldPath ?? "",
  reason: (object) => (object as CoreEvent).reason,
  reportingComponent: (object) => (object as CoreEvent).reportingComponent,
  source: (object) => (object as CoreEvent).source.component,
  type: (object) => (object as CoreEvent).type,
};

function containerDefaults(container: ContainerSpec, tokenMount: boolean, tokenVolume: string): void {
  container.terminationMessagePath ??= "/dev/termination-log";
  container.terminationMessagePolicy ??= "File";
  const image = container.image ?? "";
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  container.imagePullPolicy ??= image.includes("@") || (tag !== undefined && tag !== "latest") ? "IfNotPresent" : "Always";
  container.resources ??= {};
  const { limits } = container.resources;
  if (limits) container.resources.requests = { ...limits, ...container.resources.requests };
  for (const port of container.ports ?? []) port.protocol ??= "TCP";
  if (tokenMount) {
    container.volumeMounts = [...(container.volumeMounts ?? []), { name: tokenVolume, readOnly: true, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount" }];
  }
}

/** What the API server's defaulting and admission plugins add to a new pod, and its first status. */
export function applyPodDefaults(pod: Pod): void {
  const spec = pod.spec;
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  spec.serviceAccountName ??= "default";
  spec.serviceAccount = spec.serviceAccountName;
  spec.tolerations = [
    ...((spec.tolerations as unknown[] | undefined) ?? []),
    { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  ];
  const tokenMount = spec.automountServiceAccountToken !== false;
  const tokenVolume = `kube-api-access-${randomBytes(3).toString("hex").slice(0, 5)}`;
  if (tokenMount) {
    spec.volumes = [
      ...(spec.volumes ?? []),
      { name: tokenVolume, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: "token" } }, { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } }] } },
    ];
  }
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) containerDefaults(container, tokenMount, tokenVolume);
  pod.status = { phase: "Pending", qosClass: qosClass(spec) };
}

/** A pod's status belongs to the kubelet (the status subresource); writes to the pod keep it. */
export function keepPodStatus(pod: Pod, old: Pod): void {
  pod.status = old.status;
  if (old.spec.nodeName) pod.spec.nodeName = old.spec.nodeName;
}

/** The server stores stringData as base64 data; stringData never comes back. */
export function foldStringData(secret: Secret): void {
  secret.type ??= "Opaque";
  if (!secret.stringData) return;
  const data = { ...secret.data };
  for (const [key, value] of Object.entries(secret.stringData)) data[key] = Buffer.from(String(value), "utf8").toString("base64");
  secret.data = data;
  delete secret.stringData;
}

/** Fields the server sets, copied from the stored object onto an update. */
export function keepServerFields(object: KubeObject, old: KubeObject): void {
  object.metadata.uid = old.metadata.uid;
  object.metadata.creationTimestamp = old.metadata.creationTimestamp;
  object.metadata.namespace = old.metadata.namespace;
  if (old.metadata.deletionTimestamp) {
    object.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    object.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  } else {
    delete object.metadata.deletionTimestamp;
    delete object.metadata.deletionGracePeriodSeconds;
  }
}
