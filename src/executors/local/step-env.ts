// The environment a step's shell sees. Precedence, lowest first: the host's environment (all of
// it, or only the harmless part), CI and GUST_* variables, job env, step env, secrets.
import type { JobRun, StepRun } from "../executor";
import { gustContextVariables } from "../context-env";

/**
 * Which of the host's variables steps see. `all` suits `gust run` on a laptop (like running the
 * commands yourself). `minimal` is for the service: its environment holds the database URL, the
 * master key and webhook secrets, which a pipeline (perhaps from a fork) must never read.
 */
export type HostEnvironment = "all" | "minimal";

/** What a shell and common tools need to work, and where the machine says its proxies are. */
const MINIMAL = new Set(["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"]);

export function hostVariables(mode: HostEnvironment, source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (mode === "all" || MINIMAL.has(name) || name.startsWith("LC_")) env[name] = value;
  }
  return env;
}

/** The layers below job env, built once per job. */
export function jobEnvironment(job: JobRun, workspace: string, host: HostEnvironment): Record<string, string> {
  const env = hostVariables(host);
  Object.assign(env, gustContextVariables(job, "local", workspace));
  return env;
}

export function stepEnvironment(base: Record<string, string>, job: JobRun, step: StepRun): Record<string, string> {
  return {
    ...base,
    GUST_STEP: step.name,
    GUST_STEP_INDEX: String(step.index),
    ...job.env,
    ...step.env,
    ...job.secrets,
  };
}
