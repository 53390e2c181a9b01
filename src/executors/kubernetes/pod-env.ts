// Environment variables of the step and service containers. Precedence, lowest first, as the local
// executor has it: CI and GUST_* context, job env, step env, secrets; the protocol's GUST_STEP_*
// variables last, because the entrypoint depends on them. Secrets are references to the job's
// Secret, never values.
import type { V1EnvVar } from "@kubernetes/client-node";
import type { JobRun, StepRun } from "../executor";
import { JOB_PATH, secretEnvKey, stepScriptKey, WORKSPACE_PATH } from "./pod-protocol";
import { gustContextVariables } from "../context-env";

/**
 * `value` as Kubernetes passes it on unchanged: the kubelet expands `$(NAME)` in env values and
 * turns `$$` into `$`, so every `$` is doubled.
 */
export function literalEnvValue(value: string): string {
  return value.replaceAll("$", "$$$$");
}

/** Literal name/value pairs in the order given (a later duplicate replaces the earlier entry). */
export function literalEnv(env: Record<string, string>): V1EnvVar[] {
  return Object.entries(env).map(([name, value]) => ({ name, value: literalEnvValue(value) }));
}

/** The working directory of a step inside the pod, or undefined when it would leave the workspace. */
export function stepWorkdir(workingDirectory: string | undefined): string | undefined {
  if (workingDirectory === undefined || workingDirectory === "") return WORKSPACE_PATH;
  // Absolute paths are refused: the local executor accepts one only inside its workspace, a path
  // the pod's /workspace never has.
  if (workingDirectory.startsWith("/")) return undefined;
  const parts: string[] = [];
  for (const part of workingDirectory.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.pop() === undefined) return undefined;
      continue;
    }
    parts.push(part);
  }
  return parts.length === 0 ? WORKSPACE_PATH : `${WORKSPACE_PATH}/${parts.join("/")}`;
}

export interface StepEnvInput {
  job: JobRun;
  step: StepRun;
  /** The position of the step, N in step-<N>. */
  index: number;
  /** The job Secret's name, for the secret references. */
  secretName: string;
  workdir: string;
  /** Ports step 0 waits for (the services'), empty when there are none. */
  servicePorts: number[];
}

export function stepEnv({ job, step, index, secretName, workdir, servicePorts }: StepEnvInput): V1EnvVar[] {
  const vars = new Map<string, V1EnvVar>();
  const put = (entries: V1EnvVar[]): void => {
    for (const entry of entries) {
      vars.delete(entry.name); // a later layer's entry moves to the end, like the value it replaces
      vars.set(entry.name, entry);
    }
  };
  put(literalEnv({ ...gustContextVariables(job, "kubernetes", WORKSPACE_PATH), GUST_STEP: step.name }));
  put(literalEnv(job.env));
  put(literalEnv(step.env));
  put(
    Object.keys(job.secrets).map((name) => ({
      name,
      valueFrom: { secretKeyRef: { name: secretName, key: secretEnvKey(name) } },
    })),
  );
  put(
    literalEnv({
      GUST_STEP_INDEX: String(index),
      GUST_STEP_SCRIPT: `${JOB_PATH}/${stepScriptKey(index)}`,
      GUST_STEP_WORKDIR: workdir,
      GUST_STEP_TIMEOUT_MS: String(step.timeoutMs ?? 0),
      GUST_STEP_CONTINUE_ON_ERROR: step.continueOnError ? "1" : "0",
      GUST_STEP_ON_SUCCESS: step.when.onSuccess ? "1" : "0",
      GUST_STEP_ON_FAILURE: step.when.onFailure ? "1" : "0",
      // The log API merges stdout and stderr: the entrypoint marks stderr lines (kubernetes-job.ts reads the mark).
      GUST_STEP_TAG_STDERR: "1",
      ...(index === 0 && servicePorts.length > 0 ? { GUST_SERVICE_PORTS: servicePorts.join(" ") } : {}),
    }),
  );
  return [...vars.values()];
}
