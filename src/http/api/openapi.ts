// The OpenAPI 3.1 document of the API, generated from the route descriptions and their zod schemas
// (JSON Schema 2020-12, which is what OpenAPI 3.1 uses). Built once per app: it never changes while
// the server runs.
import { z } from "zod";
import type { ApiRoute, ResponseDoc } from "./route";
import { errorBody, requestSchemas, responseSchemas } from "./schemas";

type JsonObject = Record<string, unknown>;

const COMPONENT_URI = (id: string) => `#/components/schemas/${id}`;
const SECURITY_SCHEME = "bearerToken";

export interface OpenApiInfo {
  title: string;
  version: string;
  /** Where the routes' paths start: `/api`. */
  basePath: string;
}

export function openApiDocument(routes: readonly ApiRoute[], info: OpenApiInfo): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = info.basePath + route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
    (paths[path] ??= {})[route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description:
        "Gust's REST API. Every error answer is `{ error: { code, message, field? } }`; a body or query that fails validation gets 400 `invalid_request` with `field`, the dotted path of the first bad field.",
    },
    paths,
    components: {
      schemas: { ...components(requestSchemas, "input"), ...components(responseSchemas, "output") },
      securitySchemes: { [SECURITY_SCHEME]: { type: "http", scheme: "bearer", description: "an API token (`gust_…`); scopes read, write, admin (admin implies write, write implies read)" } },
    },
  };
}

function operation(route: ApiRoute): JsonObject {
  const parameters = [...parametersOf(route.params, "path"), ...parametersOf(route.query, "query")];
  const responses: Record<string, JsonObject> = {};
  for (const [status, doc] of Object.entries(route.responses)) responses[status] = responseObject(doc);
  const refusal = (description: string) => responseObject({ description, schema: errorBody });
  if (route.params || route.query || route.body) responses["400"] ??= refusal("invalid_request: a path, query or body field is invalid (`field` names it)");
  if (route.scope) {
    responses["401"] ??= refusal("unauthorized: no token, or an unknown, revoked or expired one");
    responses["403"] ??= refusal(`forbidden: the token lacks the '${route.scope}' scope`);
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.scope ? [{ [SECURITY_SCHEME]: [] }] : [],
    ...(route.scope ? { "x-gust-scope": route.scope } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: false, content: { "application/json": { schema: schemaObject(route.body, "input") } } } } : {}),
    responses,
  };
}

function responseObject(doc: ResponseDoc): JsonObject {
  if (doc.contentType && doc.contentType !== "application/json") return { description: doc.description, content: { [doc.contentType]: { schema: { type: "string" } } } };
  if (!doc.schema) return { description: doc.description };
  return { description: doc.description, content: { "application/json": { schema: schemaObject(doc.schema, "output") } } };
}

/** A registered schema as a reference to its component; any other inline. */
function schemaObject(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const registered = requestSchemas.get(schema) ?? responseSchemas.get(schema);
  if (registered) return { $ref: COMPONENT_URI(registered.id) };
  return clean(z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonObject);
}

/** One parameter per field of an object schema (path and query parameters are flat). */
function parametersOf(schema: z.ZodType | undefined, place: "path" | "query"): JsonObject[] {
  if (!schema) return [];
  if (!(schema instanceof z.ZodObject)) throw new Error(`${place} parameters must be described by an object schema`);
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const json = clean(z.toJSONSchema(field, { io: "input", unrepresentable: "any" }) as JsonObject);
    const { description, ...fieldSchema } = json;
    return {
      name,
      in: place,
      required: place === "path" || !field.safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

function components(registry: typeof requestSchemas, io: "input" | "output"): Record<string, JsonObject> {
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: "any", uri: COMPONENT_URI }) as { schemas: Record<string, JsonObject> };
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, clean(schema)]));
}

/** A dialect and an id on each schema are noise inside the document (3.1's default dialect is 2020-12). */
function clean(schema: JsonObject): JsonObject {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}
