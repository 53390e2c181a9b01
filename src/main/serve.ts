// Composition root of `gust serve`: database, migrations, stores, forges, the delivery worker, the
// schedule ticker, manual triggers, the dispatcher on the local executor, the log hub and the HTTP
// app — and their orderly shutdown.
import { mkdir } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { serve as serveHttp, type ServerType } from "@hono/node-server";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { DeliveryWorker } from "../app/delivery-worker";
import type { DeliveryProcessorDeps } from "../app/process-delivery";
import { triggerPipeline } from "../app/trigger-pipeline";
import type { GustConfig } from "../config";
import { LocalExecutor } from "../executors/local";
import { createHttpApp, createMetrics } from "../http";
import { DatabaseLogStore } from "../logs/database-log-store";
import { LogHub } from "../logs/log-hub";
import { Dispatcher } from "../scheduler/dispatcher";
import { LeaseReconciler } from "../scheduler/lease-reconciler";
import { ScheduleTicker } from "../scheduler/schedule-ticker";
import {
  ApiTokensStore,
  applyMigrations,
  DeliveriesStore,
  JobQueue,
  openDatabase,
  PipelinesStore,
  RepositoriesStore,
  ScheduleTicksStore,
  Sealer,
  StepsStore,
} from "../store";
import { apiDeps } from "./api-wiring";
import { ensureCliToken } from "./cli-token";
import { startForgeReporter } from "./forge-reporter-wiring";
import { cloneAuthFor, Forges, normalizeEvent, workspaceFor } from "./forges";
import { masterKey } from "./master-key";
import { createKubernetesExecutor } from "./kubernetes-wiring";
import { createRunnerApi, deriveRunnerTokenKey, FileBlobStore, RUNNER_API_BASE_PATH } from "../runner-api";
import type { Executor } from "../executors/executor";
import { databaseWakeups, HubJobLogs, StoreSchedulerQueue } from "./scheduler-adapters";
import { LocalTargetHost } from "../release/local";
import { ReleasesStore } from "../store";
import { deployProviders } from "./deploy-providers";
import { createReleaseWorker, localArtifacts, unpackedArtifacts } from "./release-wiring";

export interface RunningServer {
  url: string;
  /** Stops taking webhooks and jobs, lets running jobs finish within the grace period, closes all. */
  stop(): Promise<void>;
}

export async function startServer(config: GustConfig, logger: Logger): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const database = await openDatabase({
    ...(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir }),
    onError: (error) => logger.warn({ err: error }, "database connection error (recovering)"),
  });
  await applyMigrations(database);
  const key = await masterKey(config, (path) => logger.warn({ path }, "generated a master key for secrets; back it up — without it stored secrets cannot be read"));
  const sealer = new Sealer(key);
  const runnerTokenKey = deriveRunnerTokenKey(key);

  const deliveries = new DeliveriesStore(database);
  const repositories = new RepositoriesStore(database, sealer);
  const pipelines = new PipelinesStore(database);
  const queue = new JobQueue(database);
  const steps = new StepsStore(database);
  const forges = new Forges(repositories, (line) => logger.info({ forge: "local" }, line));
  const metrics = createMetrics({ queueDepth: () => queue.queuedCount() });

  const processor: DeliveryProcessorDeps = {
    normalize: normalizeEvent,
    findRepository: (forge, fullName) => repositories.findRepository(forge, fullName),
    getRepository: (id) => repositories.getRepository(id),
    forgeFor: (repository) => forges.forgeFor(repository as Parameters<Forges["forgeFor"]>[0]),
    createPipeline: (input) => pipelines.createPipeline(input),
    markDelivery: (id, status, detail) => deliveries.markDelivery(id, status, detail),
    // Older runs' running jobs are stopped by their dispatchers, told through CANCEL_CHANNEL.
    cancelInProgress: (pipelineId) => queue.cancelInProgress(pipelineId),
    onEvent: (event, repository) => {
      // A push to the default branch may change the schedules.
      const { context } = event;
      if (context.event === "push" && context.branch !== undefined && context.branch === event.repo.defaultBranch) void ticker.refreshRepository(repository.id);
    },
    warn: (message) => logger.warn(message),
  };
  const worker = new DeliveryWorker({
    deps: processor,
    load: async (id) => deliveries.getDelivery(id),
    pending: (limit) => deliveries.pendingDeliveries(limit),
    onResult: (delivery, result) => logger.info({ delivery: delivery.id, result: result.status, ...("reason" in result ? { reason: result.reason } : {}) }, "delivery processed"),
    onError: (error, delivery) => logger.warn({ err: error, delivery: typeof delivery === "number" ? delivery : delivery.id }, "delivery processing failed; will retry"),
  });
  const ticker = new ScheduleTicker({
    listRepositories: () => repositories.listRepositories(),
    forgeFor: processor.forgeFor,
    ticks: new ScheduleTicksStore(database),
    recordDelivery: (delivery) => deliveries.recordDelivery(delivery),
    handOff: (id) => worker.enqueue(id),
    warn: (message) => logger.warn(message),
    refreshIntervalMs: config.scheduleRefreshMs,
  });

  const hub = new LogHub({
    store: new DatabaseLogStore(database.db),
    // Other replicas hear of new lines through NOTIFY; the embedded database has no other replica.
    ...(database.kind === "postgres" ? { bus: database } : {}),
    onError: (error) => logger.warn({ err: error }, "log fan-out error"),
  });
  await hub.start();
  const executor: Executor =
    config.executor === "kubernetes"
      ? createKubernetesExecutor({
          settings: config,
          runnerUrl: config.runnerUrl ?? config.publicUrl,
          tokenKey: runnerTokenKey,
          onError: (error, context) => logger.warn({ err: error }, context),
          runsStillActive: (runIds) => queue.runningRunIds(runIds),
          onRequest: (kind) => metrics.kubernetesRequests.inc({ kind }),
        })
      : new LocalExecutor({ workRoot: join(config.dataDir, "work"), artifactsDir: join(config.dataDir, "artifacts"), cacheDir: join(config.dataDir, "cache") });
  let dispatcher: Dispatcher | undefined;
  const schedulerQueue = new StoreSchedulerQueue({
    queue,
    steps,
    repositories,
    ...(config.globalMaxJobs !== undefined ? { globalLimit: config.globalMaxJobs } : {}),
    // The lease brought the repository's settings along.
    workspaceFor: async (job) => {
      const source = workspaceFor(job.repository, job.pipeline.sha);
      // Pods clone over HTTPS themselves: they need the repository's token (the local executor does not).
      if (source.kind !== "git" || config.executor !== "kubernetes" || job.repository.forge === "local") return source;
      const auth = cloneAuthFor(job.repository.forge, await repositories.credentials(job.repository.id));
      return auth ? { ...source, auth } : source;
    },
    stop: (jobIds) => jobIds.forEach((jobId) => void dispatcher?.cancel(jobId)),
    onOutcome: (outcome) => {
      metrics.jobDuration.observe({ executor: executor.name, result: outcome.status }, outcome.durationMs / 1000);
      if (outcome.status === "error") metrics.executorErrors.inc({ executor: executor.name, code: outcome.error?.code ?? "unknown" });
    },
    logStore: new DatabaseLogStore(database.db),
    logFinished: (jobId) => void hub.finish(jobId).catch((error: unknown) => logger.warn({ err: error, job: jobId }, "could not end the live log of a finished job")),
  });
  const owner = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  dispatcher = new Dispatcher({
    owner,
    queue: schedulerQueue,
    executor,
    logs: new HubJobLogs(hub, (error) => logger.warn({ err: error }, "log write failed")),
    wakeups: databaseWakeups(database),
    capacity: config.maxConcurrentJobs,
    leaseMs: config.leaseTimeoutMs,
    heartbeatMs: Math.max(250, Math.floor(config.leaseTimeoutMs / 4)),
    onError: (error, context) => logger.error({ err: error }, context),
  });

  let draining = false;
  const app = createHttpApp({
    intake: {
      async accept(delivery) {
        const result = await deliveries.recordDelivery({
          forge: delivery.forge,
          deliveryId: delivery.deliveryId,
          event: delivery.event,
          payload: delivery.payload,
          ...(delivery.repositoryId !== undefined ? { repositoryId: delivery.repositoryId } : {}),
        });
        // The row as stored: the worker need not read it back.
        if (result.status === "created") worker.enqueue(result.id, { id: result.id, forge: delivery.forge, event: delivery.event, payload: delivery.payload, repositoryId: delivery.repositoryId ?? null });
        return { status: result.status };
      },
      async secretsFor(forge, repositoryId) {
        if (repositoryId !== undefined) return repositories.webhookSecrets(repositoryId);
        return forge === "github" ? config.githubWebhookSecrets : config.gitlabWebhookSecrets;
      },
    },
    readiness: {
      async check() {
        if (draining) return { ready: false, reason: "shutting down" };
        await database.db.execute(sql`select 1`);
        return { ready: true };
      },
    },
    metrics,
    logger,
    webhookBodyLimit: config.webhookBodyLimit,
    api: apiDeps({
      database,
      repositories,
      pipelines,
      queue,
      hub,
      trigger: (repositoryId, request) =>
        triggerPipeline(repositoryId, request, {
          getRepository: processor.getRepository,
          forgeFor: processor.forgeFor,
          recordDelivery: (delivery) => deliveries.recordDelivery(delivery),
          processor,
          retryLater: (id) => worker.enqueue(id),
        }),
    }),
  });

  // Job pods fetch sources and hand artifacts and cache over through it (any executor may use it).
  const blobs = new FileBlobStore(config.dataDir);
  app.route(RUNNER_API_BASE_PATH, createRunnerApi({ tokenKey: runnerTokenKey, blobs, maxUploadBytes: config.runnerUploadLimit, sourceExclude: [config.dataDir], logger }));

  // Local release targets come back as they were (routers and serving versions) before releases resume.
  const localTargets = new LocalTargetHost({
    root: join(config.dataDir, "releases", "local"),
    listenHost: config.localReleaseHost,
    onLog: (entry) => logger[entry.level]({ port: entry.port, ...(entry.version !== undefined ? { version: entry.version } : {}), ...(entry.lines ? { output: entry.lines } : {}) }, entry.message),
  });
  await localTargets.restore();
  const releaseWorker = createReleaseWorker({
    owner,
    database,
    releases: new ReleasesStore(database),
    queue,
    hub,
    providerFor: deployProviders(config, localTargets),
    artifactsOf: (pipelineId, jobKey) =>
      config.executor === "kubernetes" ? unpackedArtifacts(blobs, config.dataDir, pipelineId, jobKey) : localArtifacts(config.dataDir, pipelineId, jobKey),
    leaseMs: config.leaseTimeoutMs,
    logger,
  });

  const reconciler = new LeaseReconciler({
    owner,
    records: {
      stale: async ({ exceptOwner, allForeign }) =>
        (await queue.expiredLeases({ exceptOwner, allForeign })).map((lease) => ({ jobId: lease.id, runId: lease.runId, leaseOwner: lease.leaseOwner })),
      requeue: (jobId, leaseOwner) => queue.requeue(jobId, leaseOwner === null ? {} : { owner: leaseOwner }),
    },
    executor,
    ...(executor.adoptsRuns && executor.hasLiveRun
      ? {
          adopt: async (lease: { jobId: number; runId: string; leaseOwner: string }) => {
            if (!(await executor.hasLiveRun!(lease.runId))) return false;
            const job = await schedulerQueue.takeOver(lease.jobId, lease.leaseOwner, owner, config.leaseTimeoutMs);
            // Taken by another replica, or settled meanwhile: either way there is nothing to reap.
            if (job) dispatcher!.adopt(job);
            return true;
          },
        }
      : {}),
    onAdopted: (lease) => logger.info({ job: lease.jobId, run: lease.runId, previousOwner: lease.leaseOwner }, "adopted a running job whose replica stopped"),
    intervalMs: Math.max(500, Math.floor(config.leaseTimeoutMs / 2)),
    // The embedded database is locked to this process: jobs still marked running are a dead process's.
    soleReplica: database.kind === "pglite",
    onReconciled: (lease, result) => logger.warn({ job: lease.jobId, run: lease.runId, previousOwner: lease.leaseOwner, ...result }, "reconciled a job whose runner was lost"),
    onError: (error, context) => logger.error({ err: error }, context),
  });
  // Before leasing: a run left by a dead process is stopped before its job can start again.
  await reconciler.start();
  await dispatcher.start();
  await releaseWorker.start();
  const forgeReporter = await startForgeReporter({ database, forges, publicUrl: config.publicUrl, owner, logger });
  const resumed = await worker.resume();
  if (resumed > 0) logger.info({ deliveries: resumed }, "processing deliveries stored before the last stop");
  // Not awaited: reading every repository's schedules must not hold up the server's start.
  void ticker.start();
  const cliToken = await ensureCliToken(config, new ApiTokensStore(database));
  if (cliToken.path) logger.info({ path: cliToken.path }, cliToken.written ? "wrote an admin API token for the gust CLI on this machine" : "the gust CLI on this machine uses the API token in this file");
  const server = await listen(app.fetch, config);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`;
  logger.info({ url, owner, database: database.kind, dataDir: config.dataDir }, "gust serve is ready");

  return {
    url,
    async stop() {
      draining = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ticker.stop();
      await worker.stop();
      await reconciler.stop();
      // Releases stop where they are; the next start (or another replica) resumes them.
      await releaseWorker.stop();
      await dispatcher.drain(config.shutdownGraceMs);
      // After the drain: the statuses of the jobs that just finished are flushed to the forges.
      await forgeReporter.stop(5_000);
      await hub.close();
      await executor.close();
      await localTargets.close();
      await database.close();
      logger.info("gust serve stopped");
    },
  };
}


function listen(fetch: Parameters<typeof serveHttp>[0]["fetch"], config: GustConfig): Promise<ServerType & { address(): ReturnType<import("node:net").Server["address"]> }> {
  return new Promise((resolve, reject) => {
    const server = serveHttp({ fetch, port: config.port, hostname: config.host }, () => resolve(server as never));
    server.once("error", reject);
  });
}
