// `gust serve` settings from, lowest to highest precedence: defaults, the config file (--config or
// GUST_CONFIG), environment variables, flags. Pure: the process's argv, env and file system come in
// as arguments, so every rule is tested without touching the process.
import { InputError } from "../errors";
import { DEFAULTS, FIELD_KEYS, FIELDS } from "./fields";
import { configSchema, type ConfigField, type GustConfig } from "./schema";
import { configFileFrom, fromEnv, fromFile, fromFlags, type Layer, type Provided } from "./sources";

export interface LoadConfigInput {
  /** Arguments after `gust serve`. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Reads a file as UTF-8 text; throws (with a `code` such as ENOENT) when it cannot. */
  readFile: (path: string) => string;
}

/** Every problem of the configuration at once, one per line, each naming its source and field. */
export class ConfigError extends InputError {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"), "invalid_config");
  }
}

export function loadConfig({ argv, env, readFile }: LoadConfigInput): GustConfig {
  const flags = fromFlags(argv);
  const environment = fromEnv(env);
  const problems = [...flags.problems];

  const configFile = configFileFrom(flags, env);
  let file: Layer = new Map();
  if (configFile) {
    const text = read(readFile, configFile.path, configFile.label, problems);
    if (text !== undefined) {
      const parsed = fromFile(configFile.path, text);
      file = parsed.layer;
      problems.push(...parsed.problems);
    }
  }

  // Highest precedence first.
  const layers = [flags.layer, environment.layer, file];
  const chosen = new Map<ConfigField, Provided>();
  for (const key of FIELD_KEYS) {
    const provided = layers.map((layer) => layer.get(key)).find((entry) => entry !== undefined);
    if (provided) chosen.set(key, provided);
    else if (DEFAULTS[key] !== undefined) chosen.set(key, { value: DEFAULTS[key], label: () => `default ${FIELDS[key].name}` });
  }
  resolveMasterKey(layers, chosen, readFile, problems);

  const input = Object.fromEntries([...chosen].map(([key, provided]) => [key, provided.value]));
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      const key = issue.path[0] as ConfigField;
      const item = typeof issue.path[1] === "number" ? issue.path[1] : undefined;
      const provided = chosen.get(key);
      const label = provided?.label(item) ?? FIELDS[key].name;
      if (seen.has(label)) continue; // a union reports each failed branch; one line per value is enough
      seen.add(label);
      const spec = FIELDS[key];
      const value = item === undefined ? provided?.value : (provided?.value as unknown[] | undefined)?.[item];
      problems.push(`${label}: expected ${item === undefined ? spec.expected : "a non-empty secret"}${spec.secret ? "" : `, got ${describe(value)}`}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);

  const { publicUrl, masterKeyFile: _file, ...rest } = result.data;
  return {
    ...rest,
    publicUrl: (publicUrl ?? defaultPublicUrl(rest.host, rest.port)).replace(/\/+$/, ""),
    ...(configFile ? { configFile: configFile.path } : {}),
  };
}

/**
 * The key is given inline or as a file (a mounted Kubernetes Secret); whichever comes from the
 * higher-precedence source wins, and both in the same source is a mistake worth stopping for.
 */
function resolveMasterKey(layers: Layer[], chosen: Map<ConfigField, Provided>, readFile: (path: string) => string, problems: string[]): void {
  for (const layer of layers) {
    const inline = layer.get("masterKey");
    const file = layer.get("masterKeyFile");
    if (inline && file) {
      problems.push(`${inline.label()} and ${file.label()}: give the master key or a file holding it, not both`);
      chosen.delete("masterKey");
      chosen.delete("masterKeyFile");
      return;
    }
    if (inline) {
      chosen.delete("masterKeyFile");
      return;
    }
    if (file) {
      chosen.delete("masterKey");
      if (typeof file.value !== "string" || file.value.trim() === "") return; // the schema reports it
      const text = read(readFile, file.value, file.label(), problems);
      if (text !== undefined) chosen.set("masterKey", { value: text, label: () => `${file.label()} '${file.value}'` });
      return;
    }
  }
}

function read(readFile: (path: string) => string, path: string, label: string, problems: string[]): string | undefined {
  try {
    return readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    problems.push(`${label}: cannot read '${path}'${typeof code === "string" ? ` (${code})` : ""}`);
    return undefined;
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a map";
  return String(value);
}

function defaultPublicUrl(host: string, port: number): string {
  const name = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return `http://${name}:${port}`;
}
