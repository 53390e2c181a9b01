// The simulated containers' "shell": a tiny interpreter for the scripts tests give steps (`echo TEXT`
// with quotes and $VAR / ${VAR} expansion, `sleep SECONDS`, `exit N`, `true`, `false`, `:`, `cd`,
// `set`; anything else is "not found", 127), plus the pure parts of the step entrypoint protocol
// (protocol.md): reading GUST_STEP_* settings, the skip decision, the termination message line.

export type Command =
  | { kind: "echo"; text: string }
  | { kind: "sleep"; ms: number }
  | { kind: "exit"; code: number | undefined }
  | { kind: "status"; code: number; error?: string };

/** Splits the script into commands (lines and `;`), expanding variables from `env`. */
export function parseScript(text: string, env: Record<string, string>): Command[] {
  const commands: Command[] = [];
  for (const line of text.split("\n")) {
    for (const words of splitLine(line, env)) {
      if (words.length > 0) commands.push(command(words));
    }
  }
  return commands;
}

function command(words: string[]): Command {
  const [name, ...args] = words as [string, ...string[]];
  switch (name) {
    case "echo":
      return { kind: "echo", text: args.filter((word) => !/^\d?>&?\d?$/.test(word) && word !== "-e").join(" ") };
    case "sleep": {
      const seconds = Number(args[0]);
      if (!Number.isFinite(seconds) || seconds < 0) return { kind: "status", code: 1, error: `sleep: invalid number '${args[0] ?? ""}'` };
      return { kind: "sleep", ms: seconds * 1000 };
    }
    case "exit":
      return { kind: "exit", code: args[0] === undefined ? undefined : Number(args[0]) & 255 };
    case "true":
    case ":":
    case "cd":
    case "set":
      return { kind: "status", code: 0 };
    case "false":
      return { kind: "status", code: 1 };
    default:
      return { kind: "status", code: 127, error: `sh: ${name}: not found` };
  }
}

/** Words of each `;`-separated command of one line: quotes removed, variables expanded, comments dropped. */
function splitLine(line: string, env: Record<string, string>): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  const current = () => commands[commands.length - 1]!;
  const flush = () => {
    if (word !== undefined) current().push(word);
    word = undefined;
  };
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === "$" && quote === '"') index = expand(line, index, env, (value) => (word = (word ?? "") + value));
      else word = (word ?? "") + char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "#" && word === undefined) break;
    else if (char === ";") {
      flush();
      commands.push([]);
    } else if (char === " " || char === "\t") flush();
    else if (char === "$") index = expand(line, index, env, (value) => (word = (word ?? "") + value));
    else word = (word ?? "") + char;
  }
  flush();
  return commands;
}

/** Expands `$NAME` or `${NAME}` at `index`; returns the index of its last character. */
function expand(line: string, index: number, env: Record<string, string>, add: (value: string) => void): number {
  const match = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(line.slice(index));
  if (!match) {
    add("$");
    return index;
  }
  add(env[match[1] ?? match[2]!] ?? "");
  return index + match[0].length - 1;
}

export interface ScriptIo {
  log(text: string): void;
  /** Resolves after `ms`; rejects when the run is stopped. */
  sleep(ms: number): Promise<void>;
}

/** Runs the commands; with `errexit` (sh -e) the first failing command ends the script. Returns the exit code. */
export async function runScript(commands: Command[], io: ScriptIo, errexit: boolean): Promise<number> {
  let status = 0;
  for (const entry of commands) {
    if (entry.kind === "echo") {
      io.log(entry.text);
      status = 0;
    } else if (entry.kind === "sleep") {
      await io.sleep(entry.ms);
      status = 0;
    } else if (entry.kind === "exit") return entry.code ?? status;
    else {
      if (entry.error) io.log(entry.error);
      status = entry.code;
      if (errexit && status !== 0) return status;
    }
  }
  return status;
}

export interface StepSettings {
  index: number;
  /** GUST_STEP_SCRIPT: the script's path in the container (a file of the mounted job Secret). */
  scriptPath: string;
  timeoutMs: number;
  continueOnError: boolean;
  onSuccess: boolean;
  onFailure: boolean;
}

/** A protocol step's settings from its env, or undefined for a container that is not one. */
export function stepSettings(env: Record<string, string>): StepSettings | undefined {
  if (env.GUST_STEP_INDEX === undefined) return undefined;
  const index = Number(env.GUST_STEP_INDEX);
  return {
    index,
    scriptPath: env.GUST_STEP_SCRIPT ?? `/gust-job/step-${index}.sh`,
    timeoutMs: Number(env.GUST_STEP_TIMEOUT_MS ?? 0) || 0,
    continueOnError: env.GUST_STEP_CONTINUE_ON_ERROR === "1",
    onSuccess: env.GUST_STEP_ON_SUCCESS !== "0",
    onFailure: env.GUST_STEP_ON_FAILURE === "1",
  };
}

export function skipReason(settings: StepSettings, failing: boolean): string | undefined {
  if (failing && !settings.onFailure) return "skipped: an earlier step failed";
  if (!failing && !settings.onSuccess) return "skipped: the job has not failed";
  return undefined;
}

export type StepStatus = "success" | "failure" | "timed-out" | "skipped" | "cancelled";

export interface StepOutcome {
  status: StepStatus;
  exit: number | undefined;
  startedMs: number | undefined;
  finishedMs: number;
  reason?: string;
}

export function terminationMessage(outcome: StepOutcome): string {
  const parts = [`status=${outcome.status}`, `exit=${outcome.exit ?? "-"}`, `started=${outcome.startedMs ?? "-"}`, `finished=${outcome.finishedMs}`];
  if (outcome.reason) parts.push(`reason=${outcome.reason}`);
  return parts.join(" ");
}

/** The container's exit code for an outcome (protocol step 6). */
export function containerExitCode(outcome: StepOutcome): number {
  if (outcome.status === "success" || outcome.status === "skipped") return 0;
  if (outcome.status === "timed-out") return 124;
  if (outcome.status === "cancelled") return 143;
  return outcome.exit ?? 1;
}
