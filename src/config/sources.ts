// Reads each source into values tagged with where they came from, so an error can say
// `GUST_PORT: …`, `--port: …` or `gust.yml:3: port: …` instead of just the field.
import { parseArgs } from "node:util";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { CONFIG_ENV, CONFIG_FLAG, FIELD_KEYS, FIELDS } from "./fields";
import type { ConfigField } from "./schema";

export interface Provided {
  value: unknown;
  /** Where the value came from; `item` is set for one entry of a list. */
  label(item?: number): string;
}

export type Layer = Map<ConfigField, Provided>;

export interface SourceResult {
  layer: Layer;
  problems: string[];
}

const byName = new Map(FIELD_KEYS.map((key) => [FIELDS[key].name, key]));
const squash = (name: string) => name.toLowerCase().replace(/[-_]/g, "");

/** The known name meant by a misspelt or differently cased one (`publicUrl`, `prot`). */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(squash(name), squash(candidate));
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function fromEnv(env: Readonly<Record<string, string | undefined>>): SourceResult {
  const layer: Layer = new Map();
  for (const key of FIELD_KEYS) {
    const spec = FIELDS[key];
    // An empty variable counts as unset: compose files and Helm charts often render `FOO=`.
    const name = spec.env.find((candidate) => (env[candidate] ?? "") !== "");
    if (name === undefined) continue;
    const text = env[name]!;
    const value = spec.list ? text.split(",").map((part) => part.trim()).filter((part) => part !== "") : text;
    layer.set(key, { value, label: (item) => (item === undefined ? name : `${name}: item ${item + 1}`) });
  }
  return { layer, problems: [] };
}

export interface FlagsResult extends SourceResult {
  configFile?: string;
}

export function fromFlags(argv: readonly string[]): FlagsResult {
  const flagFields = FIELD_KEYS.filter((key) => FIELDS[key].flag);
  const options = Object.fromEntries([CONFIG_FLAG, ...flagFields.map((key) => FIELDS[key].name)].map((name) => [name, { type: "string" as const }]));
  // Tokens rather than strict mode: strict mode stops at the first problem and its messages name no fix.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const layer: Layer = new Map();
  const problems: string[] = [];
  const known = Object.keys(options);
  let configFile: string | undefined;
  let afterUnknown = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") continue;
    if (token.kind === "positional") {
      if (!afterUnknown) problems.push(`'${token.value}': unexpected argument; settings are given as --name value`);
      afterUnknown = false;
      continue;
    }
    afterUnknown = false;
    if (!known.includes(token.name)) {
      const secretField = FIELD_KEYS.find((key) => FIELDS[key].name === token.name && !FIELDS[key].flag);
      const suggestion = suggestName(token.name, known);
      problems.push(
        secretField
          ? `${token.rawName}: not accepted as a flag (the command line is visible to other users); set ${FIELDS[secretField].env[0]} or '${token.name}' in the config file`
          : suggestion
            ? `${token.rawName}: unknown flag (did you mean --${suggestion}?)`
            : `${token.rawName}: unknown flag; the flags are ${known.map((name) => `--${name}`).join(", ")}`,
      );
      afterUnknown = token.inlineValue !== true;
      continue;
    }
    if (token.value === undefined) {
      problems.push(`${token.rawName}: expects a value`);
      continue;
    }
    if (token.name === CONFIG_FLAG) {
      configFile = token.value;
      continue;
    }
    const key = byName.get(token.name)!;
    layer.set(key, { value: token.value, label: () => `--${token.name}` });
  }
  return { layer, problems, ...(configFile === undefined ? {} : { configFile }) };
}

export function configFileFrom(flags: FlagsResult, env: Readonly<Record<string, string | undefined>>): { path: string; label: string } | undefined {
  if (flags.configFile !== undefined) return { path: flags.configFile, label: `--${CONFIG_FLAG}` };
  const fromEnvironment = env[CONFIG_ENV];
  return fromEnvironment ? { path: fromEnvironment, label: CONFIG_ENV } : undefined;
}

/** A YAML file (JSON is YAML too) whose keys are the flag names. */
export function fromFile(path: string, text: string): SourceResult {
  const layer: Layer = new Map();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (node: unknown) => {
    const start = (node as Node | null | undefined)?.range?.[0];
    return start === undefined ? 1 : lines.linePos(start).line;
  };
  if (doc.errors.length > 0) {
    return {
      layer,
      problems: doc.errors.map((error) => `${path}:${lines.linePos(error.pos[0]).line}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`),
    };
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return { layer, problems: [] };
  if (!isMap(contents)) return { layer, problems: [`${path}:${lineOf(contents)}: expected a map of settings such as 'port: 8080'`] };

  const problems: string[] = [];
  const values = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  for (const pair of contents.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const line = lineOf(pair.key);
    const key = name === undefined ? undefined : byName.get(name);
    if (name === undefined || key === undefined) {
      const suggestion = name === undefined ? undefined : suggestName(name, [...byName.keys()]);
      problems.push(`${path}:${line}: ${name ?? "?"}: unknown setting${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`);
      continue;
    }
    const value = values[name];
    // `port:` with nothing after it reads as null: treat it as a setting left blank.
    if (value === null || value === undefined) continue;
    const node = pair.value;
    layer.set(key, {
      value,
      label: (item) => {
        if (item === undefined || !isSeq(node)) return `${path}:${line}: ${name}`;
        return `${path}:${lineOf(node.items[item]) || line}: ${name}[${item}]`;
      },
    });
  }
  return { layer, problems };
}
