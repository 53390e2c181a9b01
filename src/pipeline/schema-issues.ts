// Turns zod issues into diagnostics a person can act on: the field, what was expected, and for
// unknown keys the closest valid one.
import type { z } from "zod";
import type { IssueParams } from "./schema/primitives";
import { formatPath, type Diagnostic } from "./diagnostics";
import type { FieldPath, YamlSource } from "./source-map";
import { didYouMean } from "./suggest";

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

export function issuesToDiagnostics(issues: readonly Issue[], schema: AnySchema, data: unknown, source: YamlSource, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const emit = (path: FieldPath, message: string, options: { hint?: string; keyOf?: boolean; innerOffset?: number } = {}) => {
    const position = source.locate(path, options);
    out.push({ file, ...position, path: formatPath(path), message, ...(options.hint ? { hint: options.hint } : {}) });
  };

  const visit = (issue: Issue, base: FieldPath): void => {
    const path = [...base, ...(issue.path as Array<string | number>)];
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeys(schema, path, valueAt(data, path));
        for (const key of issue.keys) {
          emit([...path, key], `unknown key '${key}'`, { keyOf: true, hint: didYouMean(key, known) ?? (known.length ? `valid keys: ${known.join(", ")}` : undefined) });
        }
        return;
      }
      case "invalid_union": {
        if ("note" in issue && issue.note === "No matching discriminator") {
          const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
          const value = valueAt(data, path);
          const message = value === undefined ? `missing '${String(path[path.length - 1])}'` : `unknown ${String(path[path.length - 1])} '${String(value)}'`;
          emit(path, message, { hint: (typeof value === "string" ? didYouMean(value, options) : undefined) ?? `expected one of: ${options.join(", ")}` });
          return;
        }
        const branch = bestBranch(issue.errors, valueAt(data, path));
        if (branch) {
          for (const inner of branch) visit(inner, path);
          return;
        }
        const forms = describeUnion(issue.errors);
        emit(path, `expected ${forms}, got ${describeValue(valueAt(data, path))}`, { hint: `write ${forms}; \`gust schema\` shows every field` });
        return;
      }
      case "invalid_type": {
        const value = valueAt(data, path);
        if (value === undefined) {
          const field = String(path[path.length - 1]);
          emit(path, `missing required field '${field}'`, { hint: `add ${field}:` });
        } else {
          emit(path, `expected ${article(issue.expected)}, got ${describeValue(value)}`, { hint: path.length === 0 ? "a pipeline file is a map: start with jobs:" : typeHint(issue.expected, value) });
        }
        return;
      }
      case "invalid_value": {
        const value = valueAt(data, path);
        const options = issue.values.map(String);
        if (value !== null && typeof value === "object") {
          // A map or list where a word belongs (`on: [push, {pull_request: …}]`) has no text to quote.
          emit(path, `expected one of ${options.join(", ")}, got ${describeValue(value)}`);
          return;
        }
        emit(path, `'${String(value)}' is not allowed here`, {
          hint: (typeof value === "string" ? didYouMean(value, options) : undefined) ?? `expected one of: ${options.join(", ")}`,
        });
        return;
      }
      case "invalid_key": {
        for (const inner of issue.issues) emit(path, `invalid key '${String(path[path.length - 1])}': ${inner.message}`, { keyOf: true });
        return;
      }
      case "invalid_element": {
        for (const inner of issue.issues) visit(inner, path);
        return;
      }
      case "custom": {
        const params = (issue.params ?? {}) as IssueParams;
        emit(path, issue.message, { hint: params.hint, innerOffset: params.offset });
        return;
      }
      case "too_small":
      case "too_big":
        emit(path, sizeMessage(issue), { hint: sizeHint(issue) });
        return;
      case "invalid_format": {
        // zod's own wording ("Invalid URL", "Invalid string: must start with …") for the formats
        // without a message of ours; regexes carry one (expected a duration such as …).
        const format = issue as typeof issue & { prefix?: string };
        if (format.format === "url") emit(path, `expected a URL, got ${describeValue(valueAt(data, path))}`, { hint: "write it in full, e.g. https://example.com/hook" });
        else if (format.format === "starts_with") emit(path, `must start with '${String(format.prefix)}'`);
        else emit(path, issue.message);
        return;
      }
      default:
        emit(path, issue.message);
    }
  };

  for (const issue of issues) visit(issue, []);
  return out;
}

/**
 * The union branch the author most likely meant: one whose errors are not about the value's own type.
 * An enum branch rejecting a map or list (`on: {push: …}` against `on: push`) is a type mismatch too,
 * or its "'[object Object]' is not allowed" would hide the real problems inside the map.
 */
function bestBranch(branches: Issue[][], value: unknown): Issue[] | undefined {
  const wrongType = (e: Issue) =>
    e.path.length === 0 &&
    (e.code === "invalid_type" || e.code === "invalid_union" || (e.code === "invalid_value" && !e.values.some((option) => typeof option === typeof value)));
  const structural = branches.filter((errors) => !errors.some(wrongType));
  if (structural.length === 0) return undefined;
  return structural.reduce((best, errors) => (errors.length < best.length ? errors : best));
}

function describeUnion(branches: Issue[][], expected = new Set<string>()): string {
  for (const errors of branches) {
    for (const error of errors) {
      if (error.path.length === 0 && error.code === "invalid_type") expected.add(article(error.expected));
      if (error.path.length === 0 && error.code === "invalid_value") expected.add(`one of ${error.values.map(String).join(", ")}`);
      // A union inside a union (artifacts: globs or a map, globs: a string or a list) lists its forms too.
      if (error.path.length === 0 && error.code === "invalid_union") describeUnion(error.errors, expected);
    }
  }
  return [...expected].join(" or ") || "a different value";
}

/** How to write the expected kind of value, given what was written. */
function typeHint(expected: string, value: unknown): string {
  switch (expected) {
    case "array":
      return "write a list: [a, b], or one '- item' per line";
    case "object":
    case "record":
      return "write a map: 'key: value' lines indented under this key";
    case "string":
      return typeof value === "number" || typeof value === "boolean" ? `quote it: '${String(value)}'` : "write text";
    case "number":
    case "int":
      return typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)) ? `remove the quotes: ${value}` : "write a number";
    case "boolean":
      return "write true or false, without quotes";
    default:
      return `write ${article(expected)}`;
  }
}

function sizeHint(issue: Issue & { code: "too_small" | "too_big" }): string {
  const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
  if (issue.origin === "array") return issue.code === "too_small" ? `add at least ${limit} item${limit === "1" ? "" : "s"}` : `keep at most ${limit} items`;
  if (issue.origin === "string") return issue.code === "too_small" ? "write a value, or remove the key" : `shorten it to ${limit} characters`;
  return issue.code === "too_small" ? `use ${limit} or more` : `use ${limit} or less`;
}

function article(type: string): string {
  const names: Record<string, string> = { object: "a map", record: "a map", array: "a list", string: "a string", number: "a number", boolean: "true or false", int: "a whole number" };
  return names[type] ?? type;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return `${typeof value === "number" ? "the number" : "the value"} ${String(value)}`;
}

function sizeMessage(issue: Issue & { code: "too_small" | "too_big" }): string {
  const limit = issue.code === "too_small" ? issue.minimum : issue.maximum;
  const comparison = issue.code === "too_small" ? "at least" : "at most";
  switch (issue.origin) {
    case "array":
      return issue.message.startsWith("Too") ? `needs ${comparison} ${String(limit)} item${Number(limit) === 1 ? "" : "s"}` : issue.message;
    case "string":
      return Number(limit) === 1 && issue.code === "too_small" ? "must not be empty" : `must be ${comparison} ${String(limit)} characters`;
    default:
      return `must be ${comparison} ${String(limit)}`;
  }
}

function valueAt(data: unknown, path: FieldPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/**
 * Keys an object at `path` may have, found by walking the schema. Of a discriminated union only the
 * branch the value names counts: an sae target's unknown key is not matched against fc's keys.
 */
function knownKeys(schema: AnySchema, path: FieldPath, value: unknown): string[] {
  const candidates = resolve(schema, path, 0);
  const named = candidates.filter((candidate) => literalsAgree(candidate, value));
  const keys = new Set<string>();
  for (const candidate of named.length > 0 ? named : candidates) for (const key of objectKeys(candidate)) keys.add(key);
  return [...keys];
}

/** Does the value carry the literal fields (`type: sae`) an object schema requires, where it has them? */
function literalsAgree(schema: AnySchema, value: unknown): boolean {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  if (def.type !== "object" || value === null || typeof value !== "object") return true;
  return Object.entries(def.shape as Record<string, AnySchema>).every(([key, field]) => {
    const fieldDef = field._zod.def as unknown as { type: string; values?: unknown[] };
    const actual = (value as Record<string, unknown>)[key];
    return fieldDef.type !== "literal" || actual === undefined || (fieldDef.values ?? []).includes(actual);
  });
}

function unwrap(schema: AnySchema): AnySchema[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return unwrap(def.innerType as AnySchema);
    case "pipe":
      return [...unwrap(def.in as AnySchema), ...unwrap(def.out as AnySchema)];
    case "union":
      return (def.options as AnySchema[]).flatMap(unwrap);
    default:
      return [schema];
  }
}

function resolve(schema: AnySchema, path: FieldPath, depth: number): AnySchema[] {
  const here = unwrap(schema);
  if (depth === path.length) return here;
  const segment = path[depth]!;
  const out: AnySchema[] = [];
  for (const candidate of here) {
    const def = candidate._zod.def as unknown as Record<string, unknown> & { type: string };
    if (def.type === "object") {
      const shape = def.shape as Record<string, AnySchema>;
      const child = shape[String(segment)] ?? (def.catchall as AnySchema | undefined);
      if (child) out.push(...resolve(child, path, depth + 1));
    } else if (def.type === "record") {
      out.push(...resolve(def.valueType as AnySchema, path, depth + 1));
    } else if (def.type === "array" && typeof segment === "number") {
      out.push(...resolve(def.element as AnySchema, path, depth + 1));
    }
  }
  return out;
}

function objectKeys(schema: AnySchema): string[] {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  return def.type === "object" ? Object.keys(def.shape as object) : [];
}
