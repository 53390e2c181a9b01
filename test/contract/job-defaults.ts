// Fills in a JobRun from the few fields a test cares about, so contract tests stay short and every
// executor's harness builds jobs the same way.
import { randomUUID } from "node:crypto";
import type { JobRun, StepRun, WorkspaceSource } from "../../src/executors/executor";

export type StepPartial = Partial<StepRun> & { script: string };
export type JobPartial = Partial<Omit<JobRun, "steps">> & { steps: StepPartial[] };

export function buildJob(partial: JobPartial, defaults: { workspace: WorkspaceSource }): JobRun {
  const { steps, ...rest } = partial;
  return {
    runId: `run-${randomUUID()}`,
    pipelineRunId: `pipeline-${randomUUID()}`,
    pipelineName: "contract",
    jobKey: "job",
    jobName: "job",
    attempt: 1,
    env: {},
    secrets: {},
    commit: { sha: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main", branch: "main" },
    workspace: defaults.workspace,
    services: [],
    artifactsFrom: [],
    ...rest,
    steps: steps.map((step, index) => ({
      index,
      name: `step ${index}`,
      env: {},
      continueOnError: false,
      when: { onSuccess: true, onFailure: false },
      ...step,
    })),
  };
}
