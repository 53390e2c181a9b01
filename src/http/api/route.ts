// One API route as data: method, path, scope, the zod schemas of its path, query and body, its
// answers, and the handler. The same description mounts the route (validation before the handler)
// and documents it in the OpenAPI document, so the two cannot drift apart.
import type { Context, Handler } from "hono";
import { z } from "zod";
import type { LogFields } from "../app-env";
import type { TokenScope } from "./ports";

export type ApiEnv = {
  Variables: {
    log: LogFields;
    /** Set by authorize() on routes that need a token. */
    token: { id: number; name: string; scopes: TokenScope[] };
  };
};

export type HttpMethod = "get" | "post" | "delete";

export interface ResponseDoc {
  description: string;
  /** A registered schema (schemas.ts) of a JSON body; absent for no body. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
}

type Schema = z.ZodType | undefined;
type Out<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<P extends Schema, Q extends Schema, B extends Schema> {
  c: Context<ApiEnv>;
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

interface RouteDoc {
  method: HttpMethod;
  /** Hono syntax, relative to /api: `/pipelines/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Null: no token needed. */
  scope: TokenScope | null;
  responses: Record<number, ResponseDoc>;
}

export interface RouteDefinition<P extends Schema, Q extends Schema, B extends Schema> extends RouteDoc {
  params?: P;
  query?: Q;
  body?: B;
  handle(input: RouteInput<P, Q, B>): Response | Promise<Response>;
}

/** A route ready to mount and to document. */
export interface ApiRoute extends RouteDoc {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  handler: Handler<ApiEnv>;
}

export function defineRoute<P extends Schema = undefined, Q extends Schema = undefined, B extends Schema = undefined>(definition: RouteDefinition<P, Q, B>): ApiRoute {
  const { handle, ...doc } = definition;
  const handler: Handler<ApiEnv> = async (c) => {
    const params = validate(definition.params, c.req.param(), "path");
    if (!params.ok) return params.response(c);
    const query = validate(definition.query, queryValues(c), "query");
    if (!query.ok) return query.response(c);
    let body: Validated = { ok: true, value: undefined };
    if (definition.body) {
      const raw = await readJson(c);
      body = raw.ok ? validate(definition.body, raw.value, "body") : raw;
    }
    if (!body.ok) return body.response(c);
    return handle({ c, params: params.value as Out<P>, query: query.value as Out<Q>, body: body.value as Out<B> });
  };
  return { ...doc, handler };
}

type Validated = { ok: true; value: unknown } | { ok: false; response: (c: Context) => Response };

function validate(schema: z.ZodType | undefined, value: unknown, where: "path" | "query" | "body"): Validated {
  if (!schema) return { ok: true, value: undefined };
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const { field, problem } = firstProblem(result.error);
  const message = field === "" ? `invalid ${where}: ${problem}` : `invalid ${where} field '${field}': ${problem}`;
  return invalid(message, field === "" ? undefined : field);
}

/** The dotted path of the first bad field and what is wrong with it. */
export function firstProblem(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0]!;
  const path = issue.path.map(String);
  // An unknown key is reported on the object that has it: name the key itself.
  if (issue.code === "unrecognized_keys") return { field: [...path, issue.keys[0]!].join("."), problem: "unknown field" };
  return { field: path.join("."), problem: issue.message };
}

function invalid(message: string, field?: string): Validated {
  return {
    ok: false,
    response: (c) => c.json({ error: { code: "invalid_request", message, ...(field !== undefined ? { field } : {}) } }, 400),
  };
}

/** Single values as strings; a parameter given twice stays an array (and fails validation as such). */
function queryValues(c: Context): Record<string, string | string[]> {
  const values: Record<string, string | string[]> = {};
  for (const [key, list] of Object.entries(c.req.queries())) values[key] = list.length === 1 ? list[0]! : list;
  return values;
}

/** An empty body reads as `{}` (every body field is optional or named as missing). */
async function readJson(c: Context): Promise<Validated> {
  const text = await c.req.text();
  if (text.trim() === "") return { ok: true, value: {} };
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) return invalid("the request body must be JSON, sent with Content-Type: application/json");
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return invalid(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}
