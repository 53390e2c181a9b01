// The fixed names and paths of the pod protocol (v1) that the pod spec, the step entrypoint
// (runner-images/entrypoint/gust-step) and the helper program (gust-runner) agree on. Changing one
// here means changing it there too.

export const PROTOCOL_VERSION = 1;

/** emptyDir with the entrypoint, busybox and the hand-off state files. */
export const TOOLS_VOLUME = "gust-tools";
export const TOOLS_PATH = "/gust";
export const WORKSPACE_VOLUME = "workspace";
export const WORKSPACE_PATH = "/workspace";
/** The job's Secret, read-only: step scripts, runner.json and secret values. */
export const JOB_VOLUME = "gust-job";
export const JOB_PATH = "/gust-job";
/** 0444: readable whatever user the step image runs as. */
export const JOB_VOLUME_MODE = 0o444;

export const RUNNER_CONFIG_KEY = "runner.json";
export const RUNNER_CONFIG_PATH = `${JOB_PATH}/${RUNNER_CONFIG_KEY}`;
export const TERMINATION_LOG = "/dev/termination-log";

export const STEP_COMMAND = [`${TOOLS_PATH}/bin/busybox`, "sh", `${TOOLS_PATH}/bin/gust-step`];
export const PREPARE_COMMAND = ["gust-runner", "prepare"];
export const FINISH_COMMAND = ["gust-runner", "finish"];

/** Secret key of step N's script. */
export function stepScriptKey(index: number): string {
  return `step-${index}.sh`;
}

/** Secret key holding the value of the secret env var `name`. */
export function secretEnvKey(name: string): string {
  return `env.${name}`;
}
