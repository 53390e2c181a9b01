// The CI and GUST_* variables every step sees, on every executor (the contract suite checks them).
import type { JobRun } from "./executor";

export function gustContextVariables(job: JobRun, executor: string, workspace: string): Record<string, string> {
  return {
    CI: "true",
    GUST_EXECUTOR: executor,
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
  };
}
