// PATCH bodies as the API server applies them: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
// and strategic merge patch, which here is a merge patch whose keyed lists (ownerReferences by uid,
// containers/volumes/env by name) merge item by item as their patchMergeKey says.
import { ApiError, unsupportedMediaType } from "./kubernetes-status";

const ACCEPTED = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

/** patchMergeKey of the lists the stand-in's resources have, by field name. */
const MERGE_KEYS: Record<string, string> = {
  ownerReferences: "uid",
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
};

export function applyPatch(contentType: string, target: unknown, patch: unknown): unknown {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "application/json-patch+json") return applyJsonPatch(target, patch);
  if (type === "application/merge-patch+json") return mergePatch(target, patch, false);
  if (type === "application/strategic-merge-patch+json") return mergePatch(target, patch, true);
  throw unsupportedMediaType(type, ACCEPTED);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (strategic && Array.isArray(value) && Array.isArray(result[key]) && MERGE_KEYS[key]) {
      result[key] = mergeKeyedList(result[key] as unknown[], value, MERGE_KEYS[key]!);
    } else result[key] = mergePatch(result[key], value, strategic);
  }
  return result;
}

function mergeKeyedList(target: unknown[], patch: unknown[], key: string): unknown[] {
  const result = [...target];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) result[index] = mergePatch(result[index], item, true);
    else result.push(item);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function invalidPatch(message: string): ApiError {
  return new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "Invalid", details: {}, code: 422 });
}

function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch", reason: "BadRequest", code: 400 });
  let document = structuredClone(target);
  for (const raw of patch as Operation[]) {
    const path = pointer(raw.path);
    switch (raw.op) {
      case "add":
        document = put(document, path, structuredClone(raw.value), "add");
        break;
      case "replace":
        get(document, path, "replace");
        document = put(document, path, structuredClone(raw.value), "replace");
        break;
      case "remove":
        get(document, path, "remove");
        document = remove(document, path);
        break;
      case "move": {
        const from = pointer(raw.from ?? "");
        const value = get(document, from, "move");
        document = put(remove(document, from), path, value, "add");
        break;
      }
      case "copy":
        document = put(document, path, structuredClone(get(document, pointer(raw.from ?? ""), "copy")), "add");
        break;
      case "test":
        if (JSON.stringify(get(document, path, "test")) !== JSON.stringify(raw.value)) throw invalidPatch(`the server rejected our request due to an error in our request: testing value ${raw.path} failed`);
        break;
      default:
        throw invalidPatch(`Unexpected kind: ${raw.op}`);
    }
  }
  return document;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw invalidPatch(`JSON pointer must be empty or start with a "/": ${path}`);
  return path.slice(1).split("/").map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function get(document: unknown, path: string[], op: string): unknown {
  let node = document;
  for (const token of path) {
    if (Array.isArray(node) && /^\d+$/.test(token) && Number(token) < node.length) node = node[Number(token)];
    else if (isObject(node) && token in node) node = node[token];
    else throw invalidPatch(`jsonpatch ${op} operation does not apply: doc is missing path: /${path.join("/")}`);
  }
  return node;
}

function put(document: unknown, path: string[], value: unknown, op: "add" | "replace"): unknown {
  if (path.length === 0) return value;
  const parent = get(document, path.slice(0, -1), op);
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw invalidPatch(`jsonpatch ${op} operation does not apply: index out of range: /${path.join("/")}`);
    if (op === "add") parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) parent[last] = value;
  else throw invalidPatch(`jsonpatch ${op} operation does not apply: doc is missing path: /${path.join("/")}`);
  return document;
}

function remove(document: unknown, path: string[]): unknown {
  const parent = get(document, path.slice(0, -1), "remove");
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return document;
}
