// Unknown-field detection, the API server's field validation: by default (fieldValidation=Warn)
// unknown fields are dropped and named in a `Warning` header; with fieldValidation=Strict they make
// the request a 400. The known fields come from @kubernetes/client-node's generated models (the
// OpenAPI schema), since kubernetes-models' validators accept any extra property.
import * as models from "@kubernetes/client-node";

type AttributeMap = ReadonlyArray<{ baseName: string; type: string }>;

const MAP_TYPE = /^\{ \[key: string\]: (.+); \}$/;
const ARRAY_TYPE = /^Array<(.+)>$/;

function attributes(type: string): AttributeMap | undefined {
  const model = (models as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>)[type];
  return typeof model?.getAttributeTypeMap === "function" ? model.getAttributeTypeMap() : undefined;
}

/**
 * Removes the fields `type` (a client-node model name such as "V1Pod") does not know from `value`,
 * in place, and returns their paths as the server names them (`spec.containers[0].comand`).
 */
export function dropUnknownFields(value: unknown, type: string, path = ""): string[] {
  const array = ARRAY_TYPE.exec(type);
  if (array) {
    if (!Array.isArray(value)) return [];
    return value.flatMap((item, index) => dropUnknownFields(item, array[1]!, `${path}[${index}]`));
  }
  const map = MAP_TYPE.exec(type);
  if (map) {
    if (typeof value !== "object" || value === null) return [];
    return Object.entries(value).flatMap(([key, item]) => dropUnknownFields(item, map[1]!, `${path}[${key}]`));
  }
  const known = attributes(type);
  if (!known || typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const record = value as Record<string, unknown>;
  const unknown: string[] = [];
  for (const key of Object.keys(record)) {
    const field = path === "" ? key : `${path}.${key}`;
    const attribute = known.find((entry) => entry.baseName === key);
    if (!attribute) {
      unknown.push(field);
      delete record[key];
    } else unknown.push(...dropUnknownFields(record[key], attribute.type, field));
  }
  return unknown;
}
