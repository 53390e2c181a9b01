// The forge-updates sender of `gust serve`: the outbox store, LISTEN for new updates (and a resync
// after a lost connection), the repository's forge, and the job logs for failing steps' tails.
import type { Logger } from "pino";
import { ForgeReporter } from "../app/forge-reporter";
import { DatabaseLogStore } from "../logs/database-log-store";
import { FORGE_UPDATES_CHANNEL, ForgeUpdatesStore, type Database } from "../store";
import type { Forges, StoredRepository } from "./forges";

export interface ForgeReporterWiring {
  database: Database;
  forges: Pick<Forges, "forgeFor">;
  publicUrl: string;
  /** The replica's id, as the dispatcher's lease owner. */
  owner: string;
  logger: Logger;
}

export async function startForgeReporter({ database, forges, publicUrl, owner, logger }: ForgeReporterWiring): Promise<ForgeReporter> {
  const reporter = new ForgeReporter({
    owner,
    outbox: new ForgeUpdatesStore(database),
    forgeFor: (repository) => forges.forgeFor(repository as StoredRepository),
    logs: new DatabaseLogStore(database.db),
    wakeups: {
      onChange: (handler) => database.listen(FORGE_UPDATES_CHANNEL, handler, { onResync: handler }),
    },
    publicUrl,
    onSent: (update, receipt) => logger.debug({ forgeUpdate: update.id, pipeline: update.pipelineId, job: update.jobId, state: update.state, via: receipt.via }, "status reported to the forge"),
    onGiveUp: (update, error) =>
      logger.warn({ err: error, forgeUpdate: update.id, pipeline: update.pipelineId, job: update.jobId, state: update.state }, "gave up reporting a status to the forge"),
    onError: (error, context) => logger.warn({ err: error }, context),
  });
  await reporter.start();
  return reporter;
}
