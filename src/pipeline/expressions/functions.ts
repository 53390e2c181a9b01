// Built-in functions: their arity (checked before evaluation) and implementation (which never throws).

import { formatString } from "./format";
import type { EvalContext, Value } from "./types";
import { isObject, looseEquals, stringify, toJsonText } from "./values";

export interface BuiltinFunction {
  minArgs: number;
  maxArgs: number;
  call(args: readonly Value[], context: EvalContext): Value;
}

export const STATUS_FUNCTIONS: readonly string[] = ["success", "failure", "always", "cancelled"];

/** Primitive → its string form; arrays and objects have none. */
function asText(value: Value | undefined): string | undefined {
  if (value === undefined || (typeof value === "object" && value !== null)) return undefined;
  return stringify(value);
}

function arg(args: readonly Value[], index: number): Value {
  return args[index] ?? null;
}

function status(context: EvalContext): { failed: boolean; cancelled: boolean } {
  return context.status ?? { failed: false, cancelled: false };
}

function contains(search: Value, item: Value): boolean {
  if (Array.isArray(search)) return search.some((element) => looseEquals(element, item));
  const haystack = asText(search);
  const needle = asText(item);
  return haystack !== undefined && needle !== undefined && haystack.includes(needle);
}

function fromJson(text: Value): Value {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text) as Value;
  } catch {
    return null;
  }
}

function join(list: Value, separator: Value): Value {
  const sep = asText(separator) ?? ",";
  if (Array.isArray(list)) return list.map((element) => stringify(element)).join(sep);
  if (isObject(list)) return "";
  return stringify(list);
}

export const BUILTIN_FUNCTIONS: ReadonlyMap<string, BuiltinFunction> = new Map<string, BuiltinFunction>([
  ["success", { minArgs: 0, maxArgs: 0, call: (_, c) => !status(c).failed && !status(c).cancelled }],
  ["failure", { minArgs: 0, maxArgs: 0, call: (_, c) => status(c).failed }],
  ["cancelled", { minArgs: 0, maxArgs: 0, call: (_, c) => status(c).cancelled }],
  ["always", { minArgs: 0, maxArgs: 0, call: () => true }],
  ["contains", { minArgs: 2, maxArgs: 2, call: (a) => contains(arg(a, 0), arg(a, 1)) }],
  [
    "startsWith",
    {
      minArgs: 2,
      maxArgs: 2,
      call: (a) => {
        const [s, prefix] = [asText(a[0]), asText(a[1])];
        return s !== undefined && prefix !== undefined && s.startsWith(prefix);
      },
    },
  ],
  [
    "endsWith",
    {
      minArgs: 2,
      maxArgs: 2,
      call: (a) => {
        const [s, suffix] = [asText(a[0]), asText(a[1])];
        return s !== undefined && suffix !== undefined && s.endsWith(suffix);
      },
    },
  ],
  [
    "format",
    {
      minArgs: 1,
      maxArgs: Number.POSITIVE_INFINITY,
      call: (a) => formatString(stringify(arg(a, 0)), a.slice(1).map((v) => stringify(v))),
    },
  ],
  ["join", { minArgs: 1, maxArgs: 2, call: (a) => join(arg(a, 0), a.length > 1 ? arg(a, 1) : ",") }],
  ["toJSON", { minArgs: 1, maxArgs: 1, call: (a) => toJsonText(arg(a, 0), 2) }],
  ["fromJSON", { minArgs: 1, maxArgs: 1, call: (a) => fromJson(arg(a, 0)) }],
]);

/** `'contains' takes 2 arguments`, `'join' takes 1 or 2 arguments`, `'format' takes at least 1 argument`. */
export function describeArity(name: string, fn: BuiltinFunction): string {
  const plural = (n: number): string => `${n} argument${n === 1 ? "" : "s"}`;
  if (fn.maxArgs === 0) return `'${name}' takes no arguments`;
  if (fn.minArgs === fn.maxArgs) return `'${name}' takes ${plural(fn.minArgs)}`;
  if (fn.maxArgs === Number.POSITIVE_INFINITY) return `'${name}' takes at least ${plural(fn.minArgs)}`;
  return `'${name}' takes ${fn.minArgs} or ${plural(fn.maxArgs)}`;
}
