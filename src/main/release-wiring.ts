// Releases in `gust serve`: the release worker over the store, each claimed release driven with
// its target's provider, its artifact from the producing job, its log in the release job's log,
// its end recorded as the release job's outcome (which finishes the pipeline).
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { JobLogWriter } from "../logs/job-log-writer";
import type { LogHub } from "../logs/log-hub";
import type { ReleaseTarget } from "../pipeline/model";
import type { DeployProvider } from "../release/deploy-provider";
import { measureVersion } from "../release/measure";
import { releaseArtifact } from "../release/release-artifact";
import { ReleaseDriver, summarize } from "../release/release-driver";
import { postNotice } from "../release/release-notifier";
import { initialState, isFinalPhase, type ReleaseState } from "../release/release-state";
import type { RunnerBlobStore } from "../runner-api";
import { unpackInto } from "../runner/tar-stream";
import { ReleaseWorker, type ReleaseControl } from "../scheduler/release-worker";
import { databaseWakeups } from "./scheduler-adapters";
import { RELEASE_COMMANDS_CHANNEL, type ClaimedRelease, type Database, type JobOutcome, type JobQueue, type ReleasesStore } from "../store";

export interface ReleaseWiring {
  owner: string;
  database: Pick<Database, "listen" | "kind">;
  releases: ReleasesStore;
  queue: JobQueue;
  hub: LogHub;
  /** The provider for a target (one per release; closed when the release stops here). */
  providerFor(target: ReleaseTarget): DeployProvider;
  /** The directory holding a job's artifacts in a pipeline run, or undefined when it saved none. */
  artifactsOf(pipelineId: number, jobKey: string): Promise<string | undefined>;
  leaseMs: number;
  logger: Logger;
}

export function createReleaseWorker(wiring: ReleaseWiring): ReleaseWorker<ClaimedRelease> {
  const { owner, releases, database, logger } = wiring;
  return new ReleaseWorker<ClaimedRelease>({
    owner,
    records: {
      claim: (options) => releases.claim({ ...options, initialState }),
      heartbeat: (who, jobIds, leaseMs) => wiring.queue.heartbeat(who, jobIds, leaseMs),
      release: (jobId, who) => wiring.queue.release(jobId, who),
    },
    run: (claimed, control) => runRelease(wiring, claimed, control),
    wakeups: {
      // The dispatcher's wake-ups (queued jobs, cancels), plus commands given to a release.
      async subscribe(handler) {
        const stopJobs = await databaseWakeups(database).onJobsChanged(handler);
        const stopCommands = await database.listen(RELEASE_COMMANDS_CHANNEL, (payload) => handler({ releaseId: Number(payload) }));
        return async () => {
          await stopJobs();
          await stopCommands();
        };
      },
    },
    leaseMs: wiring.leaseMs,
    heartbeatMs: Math.max(250, Math.floor(wiring.leaseMs / 4)),
    soleReplica: database.kind === "pglite",
    onError: (error, context) => logger.warn({ err: error }, context),
  });
}

async function runRelease(wiring: ReleaseWiring, claimed: ClaimedRelease, control: ReleaseControl): Promise<void> {
  const { owner, releases, hub, logger } = wiring;
  const def = claimed.spec.def;
  const provider = wiring.providerFor(def.target);
  const writer = new JobLogWriter(claimed.jobId, hub, { onError: (error) => logger.warn({ err: error, job: claimed.jobId }, "release log write failed") });
  const log = (lines: string[]) => {
    for (const text of lines) writer.write({ at: Date.now(), attempt: claimed.attempt, step: null, stream: "system", text });
  };
  const stored = claimed.state as ReleaseState | undefined;
  const state = stored ?? initialState(Date.now());
  log([stored ? `resumed on ${owner} while ${stored.phase}` : `release ${claimed.releaseId} to ${claimed.target}`]);
  const description = `gust ${claimed.repository.fullName} #${claimed.pipeline.number} ${claimed.pipeline.sha.slice(0, 7)}`;
  const driver = new ReleaseDriver({
    def,
    state,
    provider,
    artifact: async () => {
      const root = claimed.artifactJobKey ? await wiring.artifactsOf(claimed.pipelineId, claimed.artifactJobKey) : undefined;
      return releaseArtifact(def.target, root ? { root, ...(def.artifact?.path ? { subpath: def.artifact.path } : {}) } : undefined, description);
    },
    measure: (version, from, to) => measureVersion(def.analysis!, provider, version, from, to),
    save: (tick) =>
      releases.saveTick(claimed.releaseId, claimed.jobId, owner, {
        phase: tick.state.phase,
        version: tick.state.version ?? null,
        weight: liveWeight(tick.state),
        state: tick.state,
        transitions: tick.transitions,
        consumedCommands: tick.consumedCommands,
        summary: tick.summary,
        report: tick.report,
      }),
    commands: () => releases.pendingCommands(claimed.releaseId),
    cancelled: () => control.cancelled(),
    log,
    onTransition: (transition, current) => {
      logger.info({ release: claimed.releaseId, target: claimed.target, from: transition.from, to: transition.to, weight: transition.weight }, transition.reason);
      if (!def.notifyWebhook) return;
      void postNotice(
        def.notifyWebhook,
        {
          release: claimed.releaseId,
          repository: claimed.repository.fullName,
          pipeline: claimed.pipeline.number,
          target: claimed.target,
          version: current.version ?? null,
          from: transition.from,
          to: transition.to,
          weight: transition.weight,
          reason: transition.reason,
          at: new Date(transition.at).toISOString(),
        },
        { onFailure: (error) => logger.warn({ release: claimed.releaseId }, error) },
      );
    },
  });
  control.onPoke(() => driver.poke());
  control.onStop(() => driver.stop());
  let result;
  try {
    result = await driver.run();
  } finally {
    await writer.close();
    await provider.close().catch((error: unknown) => logger.warn({ err: error }, "closing a deploy provider failed"));
  }
  if (!result.ended) return;
  const finished = await wiring.queue.finishJob(claimed.jobId, owner, outcomeOf(result.state));
  if (finished.accepted) void hub.finish(claimed.jobId).catch((error: unknown) => logger.warn({ err: error, job: claimed.jobId }, "could not end the live log of a release"));
}

/** The release job's outcome: a promotion succeeds; a rollback or failure fails the pipeline; an abort cancels. */
export function outcomeOf(state: ReleaseState): JobOutcome {
  const detail = summarize(state);
  switch (state.phase) {
    case "promoted":
      return { status: "success", detail };
    case "aborted":
      return { status: "cancelled", detail };
    case "failed":
      return { status: "error", detail };
    default:
      return { status: "failure", detail };
  }
}

function liveWeight(state: ReleaseState): number {
  if (state.phase === "promoted") return 100;
  if (isFinalPhase(state.phase)) return 0;
  return state.live?.canary?.weight ?? 0;
}

/** A job's artifacts kept by the runner API (Kubernetes jobs), unpacked once for releases. */
export async function unpackedArtifacts(blobs: RunnerBlobStore, dataDir: string, pipelineId: number, jobKey: string): Promise<string | undefined> {
  const target = join(dataDir, "releases", "artifacts", `pipeline-${pipelineId}`, jobKey);
  if (await stat(target).catch(() => undefined)) return target;
  const blob = await blobs.openArtifact(`pipeline-${pipelineId}`, jobKey);
  if (!blob) return undefined;
  // Unpacked aside and renamed: a crash halfway never leaves a partial artifact that looks whole.
  const partial = `${target}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await unpackInto(partial, blob.stream);
  await rename(partial, target).catch(async (error: unknown) => {
    await rm(partial, { recursive: true, force: true });
    if (!(await stat(target).catch(() => undefined))) throw error;
  });
  return target;
}

/** The local executor keeps a job's artifacts as a directory. */
export async function localArtifacts(dataDir: string, pipelineId: number, jobKey: string): Promise<string | undefined> {
  const directory = join(dataDir, "artifacts", `pipeline-${pipelineId}`, jobKey);
  return (await stat(directory).catch(() => undefined))?.isDirectory() ? directory : undefined;
}
