// The REST API's ports, built from the concrete stores and the log hub of `gust serve`.
import type { ApiDeps, TriggerPort } from "../http/api";
import type { LogHub } from "../logs/log-hub";
import { ApiTokensStore, PipelineRetry, ReleasesStore, type Database, type JobQueue, type PipelinesStore, type RepositoriesStore } from "../store";

export interface ApiWiring {
  database: Pick<Database, "db" | "kind">;
  repositories: RepositoriesStore;
  pipelines: PipelinesStore;
  queue: JobQueue;
  hub: LogHub;
  /** Manual triggers (src/app/trigger-pipeline.ts). */
  trigger: TriggerPort;
}

const UNFINISHED_JOB_STATUSES = new Set(["waiting", "queued", "running"]);

export function apiDeps(wiring: ApiWiring): ApiDeps {
  const retries = new PipelineRetry(wiring.database);
  return {
    repositories: wiring.repositories,
    pipelines: wiring.pipelines,
    control: {
      cancelPipeline: (id, options) => wiring.queue.cancelPipeline(id, options),
      retry: (id, options) => retries.retry(id, options),
    },
    trigger: wiring.trigger,
    tokens: new ApiTokensStore(wiring.database),
    releases: new ReleasesStore(wiring.database),
    logs: {
      hub: wiring.hub,
      store: wiring.hub.store,
      // A dispatcher closes a job's log writer before it records the final status (and tells the
      // hub after), so a final status means every line is stored. A job that never ran has no log.
      jobState: async (jobId) => {
        const job = await wiring.pipelines.getJob(jobId);
        return job ? { finished: !UNFINISHED_JOB_STATUSES.has(job.status) } : null;
      },
    },
  };
}
