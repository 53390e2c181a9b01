// What an executor is given for one attempt of a planned job: the same for `gust run` and the
// scheduler of `gust serve`, so a job sees the same steps, env and secrets everywhere.
import type { JobRun, WorkspaceSource } from "../executors/executor";
import type { Plan, PlannedJob } from "../pipeline";

export interface JobRunContext {
  plan: Pick<Plan, "pipeline" | "event">;
  /** Groups the jobs of one pipeline run; artifacts are handed over inside it. */
  pipelineRunId: string;
  workspace: WorkspaceSource;
  /** Every secret available; the job receives only the names it lists. */
  secrets: Record<string, string>;
  attempt: number;
}

export function jobRunFor(job: PlannedJob, context: JobRunContext): JobRun {
  const { plan, pipelineRunId, workspace, secrets, attempt } = context;
  const jobSecrets: Record<string, string> = {};
  for (const name of job.secrets) if (secrets[name] !== undefined) jobSecrets[name] = secrets[name];
  return {
    runId: `${pipelineRunId}-${job.key}-${attempt}`,
    pipelineRunId,
    pipelineName: plan.pipeline.name,
    jobKey: job.key,
    jobName: job.name,
    attempt,
    ...(job.image !== undefined ? { image: job.image } : {}),
    steps: job.steps.map((step) => ({
      index: step.index,
      name: step.name,
      script: step.script,
      env: step.env,
      ...(step.image !== undefined ? { image: step.image } : {}),
      ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
      continueOnError: step.continueOnError,
      ...(step.workingDirectory !== undefined ? { workingDirectory: step.workingDirectory } : {}),
      when: step.when,
    })),
    env: job.env,
    secrets: jobSecrets,
    timeoutMs: job.timeoutMs,
    commit: {
      sha: plan.event.sha,
      ref: plan.event.ref,
      ...(plan.event.branch !== undefined ? { branch: plan.event.branch } : {}),
      ...(plan.event.tag !== undefined ? { tag: plan.event.tag } : {}),
    },
    workspace,
    services: job.services.map((service) => ({ name: service.name, image: service.image, env: service.env, ports: service.ports })),
    ...(job.resources ? { resources: job.resources } : {}),
    ...(job.artifacts ? { artifacts: { paths: job.artifacts.paths, expireInMs: job.artifacts.expireInMs } } : {}),
    artifactsFrom: job.artifactsFrom,
    ...(job.cache ? { cache: job.cache } : {}),
  };
}
