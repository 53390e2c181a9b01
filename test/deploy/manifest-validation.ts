// Reads the YAML manifests under deploy/ and checks each against the Kubernetes API schema twice:
// kubernetes-models validates types and required fields, and the field lists of
// @kubernetes/client-node's models catch misspelt keys (`readinesProbe`), which that schema lets
// through but a strict API server (kubectl apply --validate=strict) refuses.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { parseAllDocuments } from "yaml";

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

export interface Manifest {
  file: string;
  object: K8sObject;
}

interface KindSpec {
  model: new (data: never) => { validate(): void };
  /** The @kubernetes/client-node model holding the field list. */
  fields: string;
  namespaced: boolean;
}

/** The kinds deploy/ may use; anything else is refused, so a new kind is a deliberate choice. */
export const KINDS: Record<string, KindSpec> = {
  "v1/Namespace": { model: Namespace, fields: "V1Namespace", namespaced: false },
  "v1/ServiceAccount": { model: ServiceAccount, fields: "V1ServiceAccount", namespaced: true },
  "v1/Service": { model: Service, fields: "V1Service", namespaced: true },
  "v1/Secret": { model: Secret, fields: "V1Secret", namespaced: true },
  "apps/v1/Deployment": { model: Deployment, fields: "V1Deployment", namespaced: true },
  "batch/v1/Job": { model: Job, fields: "V1Job", namespaced: true },
  "policy/v1/PodDisruptionBudget": { model: PodDisruptionBudget, fields: "V1PodDisruptionBudget", namespaced: true },
  "networking.k8s.io/v1/Ingress": { model: Ingress, fields: "V1Ingress", namespaced: true },
  "rbac.authorization.k8s.io/v1/Role": { model: Role, fields: "V1Role", namespaced: true },
  "rbac.authorization.k8s.io/v1/RoleBinding": { model: RoleBinding, fields: "V1RoleBinding", namespaced: true },
};

export function kindOf(object: { apiVersion?: unknown; kind?: unknown }): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`;
}

/** Every problem of one object, each naming the path; empty when the API server would take it. */
export function validateManifest(object: unknown): string[] {
  if (typeof object !== "object" || object === null || Array.isArray(object)) return ["not a mapping"];
  const record = object as Record<string, unknown>;
  const spec = KINDS[kindOf(record)];
  if (!spec) return [`${kindOf(record)}: not a kind deploy/ may use (known: ${Object.keys(KINDS).join(", ")})`];
  const problems: string[] = [];
  try {
    new spec.model(record as never).validate();
  } catch (error) {
    problems.push((error as Error).message);
  }
  problems.push(...unknownFields(record, spec.fields, ""));
  const metadata = record.metadata as Record<string, unknown> | undefined;
  if (typeof metadata?.name !== "string") problems.push("metadata.name: missing");
  if (spec.namespaced && typeof metadata?.namespace !== "string") problems.push("metadata.namespace: missing (every namespaced object names its namespace)");
  if (!spec.namespaced && metadata?.namespace !== undefined) problems.push("metadata.namespace: set on a cluster-scoped object");
  return problems;
}

type ModelClass = { getAttributeTypeMap(): Array<{ baseName: string; type: string }> };

function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((item, index) => unknownFields(item, array[1]!, `${path}[${index}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === "object" ? Object.entries(value).flatMap(([key, item]) => unknownFields(item, map[1]!, `${path}.${key}`)) : [];
  // Scalars: kubernetes-models checks their types.
  if (["string", "number", "boolean", "Date", "any", "IntOrString"].includes(type)) return [];
  const model = (k8s as unknown as Record<string, ModelClass | undefined>)[type];
  if (!model?.getAttributeTypeMap) throw new Error(`no @kubernetes/client-node model ${type} (at ${path || "the top"})`);
  if (typeof value !== "object" || Array.isArray(value)) return [];
  const fields = new Map(model.getAttributeTypeMap().map((field) => [field.baseName, field.type]));
  return Object.entries(value).flatMap(([key, item]) => {
    const fieldType = fields.get(key);
    const at = path ? `${path}.${key}` : key;
    return fieldType === undefined ? [`${at}: unknown field of ${type}`] : unknownFields(item, fieldType, at);
  });
}

/**
 * Every YAML document of the directory's .yaml/.yml files, parsed as YAML 1.2 (this repository's
 * parser) and checked to read the same as YAML 1.1, which is what kubectl's parser speaks: an
 * unquoted `on`, `no` or `0755` would otherwise mean one thing here and another in the cluster.
 */
export function loadManifests(directory: string, options: { skip?: readonly string[] } = {}): Manifest[] {
  const files = yamlFiles(directory).filter((file) => !(options.skip ?? []).includes(file));
  return files.flatMap((file) => parseYamlFile(join(directory, file)).map((object) => ({ file, object: object as K8sObject })));
}

export function yamlFiles(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
}

export function parseYamlFile(path: string): unknown[] {
  const text = readFileSync(path, "utf8");
  const read = (version: "1.1" | "1.2") =>
    parseAllDocuments(text, { version }).map((document) => {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map((error) => error.message).join("; ")}`);
      return document.toJS() as unknown;
    });
  const modern = read("1.2").filter((object) => object !== null);
  const kubectl = read("1.1").filter((object) => object !== null);
  if (JSON.stringify(modern) !== JSON.stringify(kubectl)) throw new Error(`${path}: reads differently as YAML 1.1 (kubectl) and 1.2; quote the ambiguous scalars`);
  return modern;
}
