// The Kubernetes executor: one ephemeral pod per job (ASK: one ECI instance), one container per
// step. Creating is idempotent (the pod and its Secret are named after the run id; AlreadyExists
// means adopt), all pods are followed through one shared watch per namespace, and a janitor removes
// pods whose run is no longer running anywhere.
import type { V1Pod } from "@kubernetes/client-node";
import type { Executor, ExecutorEventListener, JobHandle, JobRun } from "../executor";
import type { KubeClient } from "./kube-client";
import { KubeApiError, withKubeRetry } from "./kube-errors";
import { KubernetesJob, type KubernetesJobSettings } from "./kubernetes-job";
import type { PodSource } from "./job-source";
import { podSourceFor } from "./job-source";
import { ANNOTATIONS, FINISH_CONTAINER, LABELS, MANAGED_BY, podNameFor } from "./pod-names";
import type { KubernetesPodOptions } from "./pod-options";
import { buildJobPod, secretOwnerPatch } from "./pod-spec";
import { PodWatcher } from "./pod-watcher";
import { DELETE_AFTER_ANNOTATION, janitorVictims } from "./janitor-plan";

export interface KubernetesExecutorOptions {
  client: KubeClient;
  pod: KubernetesPodOptions;
  /** Where the pod reaches Gust's runner API, and its token (minted per job). */
  runnerAccess(job: JobRun, source: PodSource): { url: string; token: string };
  /** A pod stuck on an image that cannot be pulled (or a container that cannot be created) fails the job after this long. */
  imagePullTimeoutMs: number;
  /** A pod no node (or ECI) will take fails the job after this long. */
  unschedulableTimeoutMs: number;
  /** Grace period of the pod deletion that cancels a job. */
  cancelGraceSeconds: number;
  keepFailedPodsMs: number;
  /** How often the janitor looks for leftover pods (0: never). */
  janitorIntervalMs: number;
  /** Of these run ids, the ones still running somewhere (the janitor never touches those). */
  runsStillActive?(runIds: string[]): Promise<Set<string>>;
  onError(error: unknown, context: string): void;
  /** Counts API requests by kind, for metrics and the benchmark. */
  onRequest?(kind: string): void;
}

export class KubernetesExecutor implements Executor {
  readonly name = "kubernetes";
  /** Pods survive a restart of Gust: the scheduler adopts them instead of starting them again. */
  readonly adoptsRuns = true;
  private readonly watcher: PodWatcher;
  private readonly jobs = new Map<string, KubernetesJob>();
  private readonly starting = new Map<string, Promise<JobHandle>>();
  private readonly creations = new Slots(32);
  private started: Promise<void> | undefined;
  private janitorTimer: NodeJS.Timeout | undefined;
  private janitorPass: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.watcher = new PodWatcher({
      client: options.client,
      namespace: options.pod.namespace,
      labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`,
      onError: options.onError,
      onRequest: (kind) => options.onRequest?.(kind),
    });
  }

  private ready(): Promise<void> {
    this.started ??= this.watcher.start().then(() => {
      if (this.options.janitorIntervalMs > 0 && !this.closed) {
        this.janitorTimer = setInterval(() => void this.sweep(), this.options.janitorIntervalMs);
        this.janitorTimer.unref();
      }
    });
    return this.started;
  }

  start(job: JobRun, onEvent: ExecutorEventListener): Promise<JobHandle> {
    const live = this.jobs.get(job.runId);
    if (live) return Promise.resolve(live);
    // A second start of a run still being created gets the same handle, not a second follower.
    let starting = this.starting.get(job.runId);
    if (!starting) {
      starting = this.createAndFollow(job, onEvent).finally(() => this.starting.delete(job.runId));
      this.starting.set(job.runId, starting);
    }
    return starting;
  }

  private async createAndFollow(job: JobRun, onEvent: ExecutorEventListener): Promise<JobHandle> {
    await this.ready();
    const { client, pod: podOptions } = this.options;
    const namespace = podOptions.namespace;
    const podName = podNameFor(job.runId);
    let pod = this.watcher.get(podName);
    if (!pod) {
      const auth = job.workspace.kind === "git" ? job.workspace.auth : undefined;
      const source = podSourceFor(job.workspace, job.commit, auth ? { auth } : {});
      const built = buildJobPod({ job, options: podOptions, runner: this.options.runnerAccess(job, source), source });
      pod = await this.create(namespace, podName, built.pod, built.secret);
    }
    this.watcher.remember(pod);
    pod = this.watcher.get(podName) ?? pod;
    const settings: KubernetesJobSettings = {
      namespace,
      imagePullTimeoutMs: this.options.imagePullTimeoutMs,
      unschedulableTimeoutMs: this.options.unschedulableTimeoutMs,
      cancelGraceSeconds: this.options.cancelGraceSeconds,
      keepFailedPodsMs: this.options.keepFailedPodsMs,
      hasFinishContainer: (pod.spec?.containers ?? []).some((container) => container.name === FINISH_CONTAINER),
    };
    const handle = new KubernetesJob(job, podName, client, this.watcher, settings, onEvent, job.resume, {
      onError: this.options.onError,
      onLogRequest: () => this.options.onRequest?.("log"),
    });
    this.jobs.set(job.runId, handle);
    handle.begin(pod);
    void handle.wait().then(() => handle.cleanup().catch(() => undefined).finally(() => this.jobs.delete(job.runId)));
    return handle;
  }

  /** Secret, then pod, then the Secret's owner (the pod), so Kubernetes deletes them together. */
  private async create(namespace: string, podName: string, pod: V1Pod, secret: Parameters<KubeClient["createSecret"]>[1]): Promise<V1Pod> {
    // A burst of jobs must not open thousands of requests at once (memory, API fairness, and ECI's
    // CreateContainerGroup rate limit): creations wait for a slot.
    await this.creations.acquire();
    try {
      return await this.createNow(namespace, podName, pod, secret);
    } finally {
      this.creations.release();
    }
  }

  private async createNow(namespace: string, podName: string, pod: V1Pod, secret: Parameters<KubeClient["createSecret"]>[1]): Promise<V1Pod> {
    const { client, onRequest } = this.options;
    const adoptOn409 = async <T>(create: () => Promise<T>, read: () => Promise<T | null>): Promise<T> => {
      try {
        return await withKubeRetry(create);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        const existing = await read();
        if (!existing) throw error;
        return existing;
      }
    };
    onRequest?.("create-secret");
    await adoptOn409(
      () => client.createSecret(namespace, secret),
      async () => secret,
    );
    onRequest?.("create-pod");
    const created = await adoptOn409(
      () => client.createPod(namespace, pod),
      () => client.readPod(namespace, podName),
    );
    const uid = created.metadata?.uid;
    if (uid) {
      onRequest?.("patch-secret");
      await withKubeRetry(() => client.patchSecret(namespace, podName, secretOwnerPatch({ name: podName, uid }))).catch((error: unknown) =>
        // Not fatal: cleanup deletes the Secret by name; only a crash in between could leave it behind.
        this.options.onError(error, `making pod ${podName} the owner of its secret`),
      );
    }
    return created;
  }

  /** Whether a run's pod still exists and has not been settled: the scheduler adopts it then. */
  async hasLiveRun(runId: string): Promise<boolean> {
    await this.ready();
    const podName = podNameFor(runId);
    const pod = this.watcher.get(podName) ?? (await this.options.client.readPod(this.options.pod.namespace, podName));
    return pod !== undefined && pod !== null && !pod.metadata?.deletionTimestamp && !pod.metadata?.annotations?.[DELETE_AFTER_ANNOTATION];
  }

  async reap(runId: string): Promise<"stopped" | "gone"> {
    const live = this.jobs.get(runId);
    if (live) {
      await live.cleanup();
      return "stopped";
    }
    await this.ready();
    const namespace = this.options.pod.namespace;
    const podName = podNameFor(runId);
    const pod = this.watcher.get(podName) ?? (await this.options.client.readPod(namespace, podName));
    await this.options.client.deletePod(namespace, podName, 0);
    await this.options.client.deleteSecret(namespace, podName);
    const running = pod !== null && pod !== undefined && (pod.status?.phase === "Running" || pod.status?.phase === "Pending");
    return running ? "stopped" : "gone";
  }

  /** One janitor pass: deletes pods of runs that run nowhere any more, and kept pods whose time is up. */
  sweep(): Promise<void> {
    this.janitorPass ??= (async () => {
      const pods = this.watcher.all();
      const runIds = pods.map((pod) => pod.metadata?.annotations?.[ANNOTATIONS.runId]).filter((id): id is string => !!id && !this.jobs.has(id));
      const active = this.options.runsStillActive ? await this.options.runsStillActive(runIds) : new Set(runIds);
      const victims = janitorVictims(pods, { now: Date.now(), localRuns: new Set(this.jobs.keys()), activeRuns: active });
      for (const name of victims) {
        this.options.onRequest?.("janitor-delete");
        await this.options.client.deletePod(this.options.pod.namespace, name, 0);
        await this.options.client.deleteSecret(this.options.pod.namespace, name);
      }
    })()
      .catch((error: unknown) => this.options.onError(error, "removing leftover pods"))
      .finally(() => (this.janitorPass = undefined));
    return this.janitorPass;
  }

  /** Stops watching and following; pods keep running (another process, or this one restarted, adopts them). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.janitorTimer);
    for (const job of this.jobs.values()) job.detach();
    this.jobs.clear();
    this.watcher.close();
    await this.janitorPass;
  }
}

/** A counting semaphore: at most `size` holders at once, the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
