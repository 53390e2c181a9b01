// Label and field selectors as the API server parses them (labels.Parse, fields.ParseSelector):
// `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)` for labels; `f=v`, `f==v`, `f!=v`
// for the fields a resource supports. A selector the server cannot parse is a 400.
import { badRequest } from "./kubernetes-status";
import type { KubeObject } from "./kubernetes-types";

export type Matcher = (object: KubeObject) => boolean;

type Requirement =
  | { key: string; op: "exists" | "notexists" }
  | { key: string; op: "in" | "notin"; values: string[] };

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function parseLabelSelector(text: string | null): Matcher {
  if (text === null || text.trim() === "") return () => true;
  const requirements = splitTopLevel(text).map(parseRequirement);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((requirement) => matches(requirement, labels));
  };
}

function parseRequirement(raw: string): Requirement {
  const text = raw.trim();
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(text);
  let requirement: Requirement;
  if (set) {
    const values = set[3]!.split(",").map((value) => value.trim());
    requirement = { key: set[1]!, op: set[2] as "in" | "notin", values };
  } else if (text.startsWith("!")) {
    requirement = { key: text.slice(1).trim(), op: "notexists" };
  } else {
    const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
    if (equality) {
      requirement = { key: equality[1]!, op: equality[2] === "!=" ? "notin" : "in", values: [equality[3]!] };
    } else {
      requirement = { key: text, op: "exists" };
    }
  }
  if (!LABEL_KEY.test(requirement.key)) throw badRequest(`unable to parse requirement: invalid label key "${requirement.key}" in selector "${raw}"`);
  if ("values" in requirement) {
    for (const value of requirement.values) {
      if (value.length > 63 || !LABEL_VALUE.test(value)) throw badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${raw}"`);
    }
  }
  return requirement;
}

function matches(requirement: Requirement, labels: Record<string, string>): boolean {
  const value = labels[requirement.key];
  switch (requirement.op) {
    case "exists":
      return value !== undefined;
    case "notexists":
      return value === undefined;
    case "in":
      return value !== undefined && requirement.values.includes(value);
    case "notin":
      return value === undefined || !requirement.values.includes(value);
  }
}

/** Field name → how to read it from an object. */
export type FieldReaders = Record<string, (object: KubeObject) => string | undefined>;

export function parseFieldSelector(text: string | null, fields: FieldReaders): Matcher {
  if (text === null || text.trim() === "") return () => true;
  const terms = splitTopLevel(text).map((raw) => {
    const match = /^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(raw);
    if (!match) throw badRequest(`invalid field selector: '${raw}'`);
    const read = fields[match[1]!];
    if (!read) throw badRequest(`field label not supported: ${match[1]}`);
    return { read, negate: match[2] === "!=", value: match[3]! };
  });
  return (object) => terms.every((term) => (term.read(object) === term.value) !== term.negate);
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === "(") depth += 1;
    else if (char === ")") depth -= 1;
    else if (char === "," && depth === 0) {
      parts.push(text.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

export function isLabelKey(key: string): boolean {
  return key.length <= 316 && LABEL_KEY.test(key);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}
