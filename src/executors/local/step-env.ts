// The environment a step's shell sees. Precedence, lowest first: the executor's own environment,
// CI and GUST_* variables, job env, step env, secrets.
import type { JobRun, StepRun } from "../executor";

/** The layers below job env, built once per job. */
export function jobEnvironment(job: JobRun, workspace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  Object.assign(env, {
    CI: "true",
    GUST_EXECUTOR: "local",
    GUST_PIPELINE: job.pipelineName,
    GUST_PIPELINE_RUN_ID: job.pipelineRunId,
    GUST_JOB: job.jobKey,
    GUST_JOB_NAME: job.jobName,
    GUST_RUN_ID: job.runId,
    GUST_ATTEMPT: String(job.attempt),
    GUST_COMMIT: job.commit.sha,
    GUST_REF: job.commit.ref,
    GUST_BRANCH: job.commit.branch ?? "",
    GUST_TAG: job.commit.tag ?? "",
    GUST_WORKSPACE: workspace,
  });
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
