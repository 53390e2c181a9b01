// The REST verbs over one resource, as the API server's generic registry answers them: get, list
// (label and field selectors, limit/continue, items without kind/apiVersion), create (201; 409
// AlreadyExists; 422 Invalid), update and patch (409 Conflict on a stale resourceVersion), delete
// (preconditions; what it returns is the resource's business). Unknown fields follow the request's
// fieldValidation: Strict → 400, Ignore → dropped, Warn (the default) → dropped with a Warning.
import { randomUUID } from "node:crypto";
import { dropUnknownFields } from "./kubernetes-fields";
import { applyPatch } from "./kubernetes-patch";
import { keepServerFields } from "./kubernetes-resources";
import { parseFieldSelector, parseLabelSelector, type FieldReaders, type Matcher } from "./kubernetes-selectors";
import type { ResourceStore } from "./kubernetes-store";
import { ApiError, alreadyExists, badRequest, conflict, notFound } from "./kubernetes-status";
import { rfc3339, type KubeObject } from "./kubernetes-types";
import { checkNamespace } from "./kubernetes-validation";

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Resource<T extends KubeObject> {
  plural: string;
  kind: string;
  /** The @kubernetes/client-node model naming the known fields ("V1Pod"). */
  model: string;
  store: ResourceStore<T>;
  fields: FieldReaders;
  /** Defaults and admission on create (after validation, as the object's shape is known then). */
  create(object: T): void;
  /** On every write, before validation. */
  normalize(object: T): void;
  validate(object: T, old?: T): void;
  /** Parts of the stored object an update cannot change. */
  keep(object: T, old: T): void;
  /** After the store took a new object. */
  created(object: T): void;
  /** DELETE: removes (or starts removing) the object; returns the response body. */
  delete(object: T, options: DeleteOptions): unknown;
}

export interface Answer {
  status: number;
  body: unknown;
  /** Warning headers (unknown fields that were dropped). */
  warnings?: string[];
}

export interface WriteContext {
  query: URLSearchParams;
  /** Every write acts as fieldValidation=Strict. */
  strictFields: boolean;
  namespaceExists(namespace: string): boolean;
  now(): number;
}

function isObject(value: unknown): value is KubeObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function getObject<T extends KubeObject>(resource: Resource<T>, namespace: string, name: string): T {
  const object = resource.store.get(namespace, name);
  if (!object) throw notFound(resource.plural, name);
  return object;
}

export function selectors(resource: Resource<KubeObject>, query: URLSearchParams): Matcher {
  const labels = parseLabelSelector(query.get("labelSelector"));
  const fields = parseFieldSelector(query.get("fieldSelector"), resource.fields);
  return (object) => labels(object) && fields(object);
}

export function listObjects(resource: Resource<KubeObject>, namespace: string | undefined, query: URLSearchParams, currentVersion: number): Answer {
  const matches = selectors(resource, query);
  let items = resource.store.list(namespace).filter(matches);
  const token = query.get("continue");
  let resourceVersion = String(currentVersion);
  if (token) {
    let start: { rv: string; after: string };
    try {
      start = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as typeof start;
    } catch {
      throw badRequest("continue key is not valid: illegal base64 data");
    }
    resourceVersion = start.rv;
    items = items.filter((item) => `${item.metadata.namespace}/${item.metadata.name}` > start.after);
  }
  const limit = Number(query.get("limit") ?? 0);
  const metadata: Record<string, unknown> = { resourceVersion };
  if (limit > 0 && items.length > limit) {
    const last = items[limit - 1]!;
    metadata.continue = Buffer.from(JSON.stringify({ rv: resourceVersion, after: `${last.metadata.namespace}/${last.metadata.name}` })).toString("base64");
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  const bare = items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
  return { status: 200, body: { kind: `${resource.kind}List`, apiVersion: "v1", metadata, items: bare } };
}

/** Drops unknown fields per fieldValidation; returns the Warning texts. */
function fieldValidation(resource: { kind: string; model: string }, object: KubeObject, context: WriteContext): string[] {
  const mode = context.strictFields ? "Strict" : (context.query.get("fieldValidation") ?? "Warn");
  const unknown = dropUnknownFields(object, resource.model);
  if (unknown.length === 0 || mode === "Ignore") return [];
  const texts = unknown.map((field) => `unknown field "${field}"`);
  if (mode === "Strict") throw badRequest(`${resource.kind} in version "v1" cannot be handled as a ${resource.kind}: strict decoding error: ${texts.join(", ")}`);
  return texts;
}

const GENERATED = "bcdfghjklmnpqrstvwxz2456789";

export function createObject<T extends KubeObject>(resource: Resource<T>, namespace: string, body: unknown, context: WriteContext): Answer {
  if (!isObject(body)) throw badRequest(`${resource.kind} in version "v1" cannot be handled as a ${resource.kind}: the body is not a JSON object`);
  const object = structuredClone(body) as T;
  checkNamespace(object, namespace);
  if (object.kind !== undefined && object.kind !== resource.kind) throw badRequest(`${resource.kind} in version "v1" cannot be handled as a ${resource.kind}: the kind is ${JSON.stringify(object.kind)}`);
  object.kind = resource.kind;
  object.apiVersion = "v1";
  if (!context.namespaceExists(namespace)) throw notFound("namespaces", namespace);
  if (object.metadata.resourceVersion) {
    throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "resourceVersion should not be set on objects to be created", reason: "InternalError", code: 500 });
  }
  const generateName = object.metadata.generateName;
  if (!object.metadata.name && typeof generateName === "string" && generateName !== "") {
    object.metadata.name = generateName + Array.from({ length: 5 }, () => GENERATED[Math.floor(Math.random() * GENERATED.length)]).join("");
  }
  const warnings = fieldValidation(resource, object, context);
  object.metadata.uid = randomUUID();
  object.metadata.creationTimestamp = rfc3339(context.now());
  delete object.metadata.deletionTimestamp;
  resource.normalize(object);
  resource.validate(object);
  resource.create(object);
  if (resource.store.get(namespace, object.metadata.name)) throw alreadyExists(resource.plural, object.metadata.name);
  const stored = resource.store.insert(object);
  resource.created(stored);
  return { status: 201, body: stored, warnings };
}

function update<T extends KubeObject>(resource: Resource<T>, old: T, next: unknown, context: WriteContext): Answer {
  if (!isObject(next)) throw badRequest(`${resource.kind} in version "v1" cannot be handled as a ${resource.kind}: the body is not a JSON object`);
  const object = next as T;
  if (typeof object.metadata !== "object" || object.metadata === null) object.metadata = { name: old.metadata.name };
  if (object.metadata.name !== old.metadata.name) throw badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${old.metadata.name})`);
  const given = object.metadata.resourceVersion;
  if (given && given !== old.metadata.resourceVersion) throw conflict(resource.plural, old.metadata.name, "the object has been modified; please apply your changes to the latest version and try again");
  object.kind = resource.kind;
  object.apiVersion = "v1";
  const warnings = fieldValidation(resource, object, context);
  keepServerFields(object, old);
  resource.keep(object, old);
  resource.normalize(object);
  resource.validate(object, old);
  return { status: 200, body: resource.store.replace(object, old), warnings };
}

export function replaceObject<T extends KubeObject>(resource: Resource<T>, namespace: string, name: string, body: unknown, context: WriteContext): Answer {
  const old = getObject(resource, namespace, name);
  if (isObject(body)) checkNamespace(body, namespace);
  return update(resource, old, structuredClone(body), context);
}

export function patchObject<T extends KubeObject>(resource: Resource<T>, namespace: string, name: string, body: unknown, contentType: string, context: WriteContext): Answer {
  const old = getObject(resource, namespace, name);
  return update(resource, old, applyPatch(contentType, structuredClone(old), body), context);
}

export function deleteObject<T extends KubeObject>(resource: Resource<T>, namespace: string, name: string, body: unknown, query: URLSearchParams): Answer {
  const object = getObject(resource, namespace, name);
  const options: DeleteOptions = isObject(body) ? (body as unknown as DeleteOptions) : {};
  const grace = query.get("gracePeriodSeconds");
  if (grace !== null) options.gracePeriodSeconds = Number(grace);
  if (options.gracePeriodSeconds !== undefined && !(Number.isInteger(options.gracePeriodSeconds) && options.gracePeriodSeconds >= 0)) {
    throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(options.gracePeriodSeconds)}: must be a non-negative integer`);
  }
  const { uid, resourceVersion } = options.preconditions ?? {};
  if (uid && uid !== object.metadata.uid) throw conflict(resource.plural, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${object.metadata.uid}`);
  if (resourceVersion && resourceVersion !== object.metadata.resourceVersion) {
    throw conflict(resource.plural, name, `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`);
  }
  return { status: 200, body: resource.delete(object, options) };
}

/** DELETE on a collection: deletes every object the selectors match; answers the list of them as deleted. */
export function deleteCollection<T extends KubeObject>(resource: Resource<T>, namespace: string, body: unknown, query: URLSearchParams, currentVersion: () => number): Answer {
  const matches = selectors(resource as unknown as Resource<KubeObject>, query);
  const items = resource.store.list(namespace).filter(matches).map((object) => {
    const answer = deleteObject(resource, namespace, object.metadata.name, body, query).body as KubeObject;
    return answer.kind === "Status" ? object : answer;
  });
  const bare = items.map((item) => {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = item as KubeObject;
    return rest;
  });
  return { status: 200, body: { kind: `${resource.kind}List`, apiVersion: "v1", metadata: { resourceVersion: String(currentVersion()) }, items: bare } };
}
