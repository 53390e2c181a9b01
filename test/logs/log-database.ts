// Jobs to hang log lines on, in a database from test/helpers/database.ts.
import type { Db } from "../../src/store/database";
import { jobs } from "../../src/store/schema/jobs";
import { pipelines } from "../../src/store/schema/pipelines";
import { repositories } from "../../src/store/schema/repositories";

/** A repository and pipeline of its own, and a function making a new job row in it. */
export async function jobMaker(db: Db): Promise<() => Promise<number>> {
  const [repository] = await db
    .insert(repositories)
    .values({ forge: "local", fullName: `logs-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}` })
    .returning({ id: repositories.id });
  if (!repository) throw new Error("no repository row");
  const [pipeline] = await db
    .insert(pipelines)
    .values({ repositoryId: repository.id, number: 1, name: "logs", file: ".gust.yml", event: "push", ref: "refs/heads/main", sha: "0".repeat(40) })
    .returning({ id: pipelines.id });
  if (!pipeline) throw new Error("no pipeline row");
  let next = 0;
  return async () => {
    next++;
    const [job] = await db
      .insert(jobs)
      .values({ pipelineId: pipeline.id, repositoryId: repository.id, key: `job-${next}`, name: `job ${next}`, spec: {} })
      .returning({ id: jobs.id });
    if (!job) throw new Error("no job row");
    return job.id;
  };
}
