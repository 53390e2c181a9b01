// Command-line parsing on node:util's parseArgs, with errors that say what to type instead.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError } from "../errors";

export class UsageError extends InputError {
  constructor(message: string) {
    super(message, "usage");
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

export function parseCommandArgs<T extends OptionSpec>(argv: string[], options: T, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${message}\nrun 'gust ${command} --help' for the options`);
  }
}

/** `k=v` pairs from repeated flags. */
export function keyValues(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values ?? []) {
    const index = pair.indexOf("=");
    if (index <= 0) throw new UsageError(`--${flag} expects NAME=VALUE, got '${pair}'`);
    out[pair.slice(0, index)] = pair.slice(index + 1);
  }
  return out;
}

export function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`--${flag} expects a whole number of at least 1, got '${value}'`);
  return number;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(", ")}, got '${value}'`);
  return value as T;
}
