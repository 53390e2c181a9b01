// Value semantics: truthiness, string and number coercion, comparison and safe property access.
// Coercions follow GitHub Actions, except that string comparison is case-sensitive.

import type { Value } from "./types";

export type ValueObject = { [key: string]: Value };

export function isObject(value: Value): value is ValueObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** false, 0, -0, NaN, '' and null are falsy; everything else (including [] and {}) is truthy. */
export function isTruthy(value: Value): boolean {
  if (value === null || value === false || value === "") return false;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  return true;
}

/** Text for interpolation: null → '', numbers as JS prints them, booleans 'true'/'false', arrays/objects → JSON. */
export function stringify(value: Value): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return toJsonText(value, undefined);
}

/** JSON text; never throws (a cyclic structure, which is not a valid Value, gives 'null'). */
export function toJsonText(value: Value, indent: number | undefined): string {
  try {
    return JSON.stringify(value, null, indent) ?? "null";
  } catch {
    return "null";
  }
}

/** Number coercion: null → 0, booleans → 0/1, strings parsed ('' → 0, invalid → NaN), arrays/objects → NaN. */
export function toNumber(value: Value): number {
  if (value === null) return 0;
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (trimmed === "") return 0;
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) || /^0x[0-9a-f]+$/i.test(trimmed)) return Number(trimmed);
    if (/^[+-]?Infinity$/.test(trimmed)) return Number(trimmed);
    return Number.NaN;
  }
  return Number.NaN;
}

function isPrimitive(value: Value): value is string | number | boolean | null {
  return value === null || typeof value !== "object";
}

/** `==`: same-type values compare directly (strings case-sensitively, arrays/objects by identity); otherwise both become numbers. */
export function looseEquals(a: Value, b: Value): boolean {
  if (!isPrimitive(a) || !isPrimitive(b)) return a === b;
  if (typeof a === typeof b) return a === b; // NaN !== NaN, as intended
  return toNumber(a) === toNumber(b);
}

/** `<` `<=` `>` `>=`: two strings compare ordinally, otherwise numerically; NaN, arrays and objects compare false. */
export function compareValues(op: "<" | "<=" | ">" | ">=", a: Value, b: Value): boolean {
  if (!isPrimitive(a) || !isPrimitive(b)) return false;
  let x: string | number;
  let y: string | number;
  if (typeof a === "string" && typeof b === "string") {
    x = a;
    y = b;
  } else {
    x = toNumber(a);
    y = toNumber(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
  }
  switch (op) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    case ">=":
      return x >= y;
  }
}

/** `object.key` / `object[key]`: own properties only; anything missing or inapplicable gives null. */
export function getProperty(object: Value, key: Value): Value {
  if (Array.isArray(object)) {
    const index = typeof key === "number" ? key : typeof key === "string" && /^\d+$/.test(key) ? Number(key) : Number.NaN;
    if (!Number.isInteger(index) || index < 0 || index >= object.length) return null;
    return object[index] ?? null;
  }
  if (isObject(object)) {
    if (typeof key !== "string" && typeof key !== "number") return null;
    const name = String(key);
    return Object.hasOwn(object, name) ? (object[name] ?? null) : null;
  }
  return null;
}
