// The simulated scheduler and kubelet ("pod driver"): moves each new pod through what a node does
// with it — schedule (or Unschedulable + FailedScheduling), wait for its Secret volumes (FailedMount),
// run the init containers in order, pull images (ErrImagePull ⇄ ImagePullBackOff for one that does
// not exist), start the containers (CreateContainerConfigError for a missing secret key) and run
// their programs (./kubernetes-programs), honour activeDeadlineSeconds — and handles graceful
// deletion: deletionTimestamp, containers terminated with 143, the pod gone after the grace period.
// Models restartPolicy Never (what Gust's pods use): containers are never restarted.
import { setTimeout as delay } from "node:timers/promises";
import type { EventRecorder } from "./kubernetes-events";
import type { LogBook } from "./kubernetes-logs";
import { containerEnv, missingVolumeSecrets, mountedFile } from "./kubernetes-pod-files";
import {
  findContainerStatus,
  initialContainerStatuses,
  isTerminated,
  refreshStatus,
  scheduledCondition,
  startContainer,
  terminateContainer,
  unschedulableCondition,
  waitingStatus,
} from "./kubernetes-pod-status";
import { isService, JobState, runContainer, type ContainerExit, type ProgramContext } from "./kubernetes-programs";
import { unschedulableMessage } from "./kubernetes-scheduling";
import { stepSettings, terminationMessage } from "./kubernetes-step-script";
import type { ResourceStore } from "./kubernetes-store";
import { rfc3339, type ContainerSpec, type Pod, type Secret } from "./kubernetes-types";

export interface DriverSettings {
  /** false: pods stay Pending and unscheduled until `resume()` (for tests that set states by hand). */
  run: boolean;
  /** Delay of each simulated transition (schedule, mount, start, prepare). */
  transitionMs: number;
  /** The first image pull back-off (doubles up to 8×). */
  backOffMs: number;
  /** Deletion to disappearance of a scheduled pod, at most (the grace period bounds it too). */
  terminationMs: number;
  /** A service container's exit code when stopped (postgres and redis exit 0 on SIGTERM). */
  serviceExitCode: number;
  /** The node: a pod requesting more is Unschedulable ("Insufficient cpu"). */
  node: { cpu: string; memory: string; labels: Record<string, string> };
  /** Whether an image can be pulled (default: unless its name contains "does-not-exist"). */
  imageExists(image: string): boolean;
  /** Why the `gust-prepare` init container of this pod fails, or undefined for success. */
  prepareFailure(pod: Pod): string | undefined;
}

export const DEFAULT_DRIVER_SETTINGS: DriverSettings = {
  run: true,
  transitionMs: 2,
  backOffMs: 50,
  terminationMs: 10,
  serviceExitCode: 0,
  node: { cpu: "8", memory: "32Gi", labels: { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" } },
  imageExists: (image) => !image.includes("does-not-exist"),
  prepareFailure: () => undefined,
};

export interface Cluster {
  pods: ResourceStore<Pod>;
  secrets: ResourceStore<Secret>;
  logs: LogBook;
  events: EventRecorder;
  now(): number;
}

interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

interface PodRun {
  controller: AbortController;
  job: JobState;
  stepStarted: Map<string, number>;
  stopServices(): void;
  servicesStopped: Promise<void>;
  deadline?: NodeJS.Timeout;
}

function refOf(pod: Pod): PodRef {
  return { namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name, uid: pod.metadata.uid ?? "" };
}

function logKey(ref: PodRef, container: string): string {
  return `${ref.namespace}/${ref.name}/${container}`;
}

function isAbort(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

export class PodDriver {
  private readonly runs = new Map<string, PodRun>();
  private readonly held = new Map<string, PodRef>();
  private readonly mountWaiters = new Map<string, Set<() => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private scheduled = 0;

  constructor(
    private readonly cluster: Cluster,
    readonly settings: DriverSettings,
  ) {
    cluster.secrets.subscribe((event) => {
      if (event.type !== "ADDED") return;
      const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
      for (const wake of this.mountWaiters.get(key) ?? []) wake();
    });
    cluster.pods.subscribe((event) => {
      if (event.type !== "DELETED") return;
      const ref = refOf(event.object);
      this.stop(ref.uid);
      this.held.delete(ref.uid);
      cluster.logs.forget(`${ref.namespace}/${ref.name}`);
      cluster.events.forget(ref.uid);
    });
  }

  /** A pod was created: start driving it (or hold it while paused). */
  admit(pod: Pod): void {
    const ref = refOf(pod);
    if (this.settings.run) this.start(ref);
    else this.held.set(ref.uid, ref);
  }

  pause(): void {
    this.settings.run = false;
  }

  /** Starts driving the pods created while paused. */
  resume(): void {
    this.settings.run = true;
    for (const ref of this.held.values()) this.start(ref);
    this.held.clear();
  }

  /**
   * DELETE of a pod. An unscheduled pod, or one deleted with grace 0, goes at once; a scheduled one
   * gets its deletionTimestamp, its containers are killed, and it goes when they are dead.
   */
  delete(pod: Pod, gracePeriodSeconds: number | undefined): Pod {
    const ref = refOf(pod);
    const grace = gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec.nodeName || grace === 0) return this.cluster.pods.remove(ref.namespace, ref.name)!;
    if (pod.metadata.deletionTimestamp) return pod;
    const run = this.stop(ref.uid);
    const updated = this.cluster.pods.modify(ref.namespace, ref.name, (draft) => {
      draft.metadata.deletionTimestamp = rfc3339(this.cluster.now() + grace * 1000);
      draft.metadata.deletionGracePeriodSeconds = grace;
    })!;
    for (const entry of updated.status.containerStatuses ?? []) {
      if (entry.state.running) this.cluster.events.record(updated, "Normal", "Killing", `Stopping container ${entry.name}`);
    }
    const total = Math.min(this.settings.terminationMs, grace * 1000);
    this.after(total / 2, () => this.kill(ref, run));
    this.after(total, () => {
      if (this.current(ref)) this.cluster.pods.remove(ref.namespace, ref.name);
    });
    return updated;
  }

  /** Stops every run and timer (the stand-in is closing). */
  close(): void {
    for (const uid of [...this.runs.keys()]) this.stop(uid);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private after(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  private stop(uid: string): PodRun | undefined {
    const run = this.runs.get(uid);
    if (!run) return undefined;
    this.runs.delete(uid);
    clearTimeout(run.deadline);
    run.controller.abort();
    return run;
  }

  private current(ref: PodRef): Pod | undefined {
    const pod = this.cluster.pods.get(ref.namespace, ref.name);
    return pod?.metadata.uid === ref.uid ? pod : undefined;
  }

  private update(ref: PodRef, mutate: (pod: Pod) => void): Pod | undefined {
    if (!this.current(ref)) return undefined;
    const pod = this.cluster.pods.modify(ref.namespace, ref.name, (draft) => {
      mutate(draft);
      refreshStatus(draft, this.cluster.now());
    });
    if (pod && (pod.status.phase === "Succeeded" || pod.status.phase === "Failed")) clearTimeout(this.runs.get(ref.uid)?.deadline);
    return pod;
  }

  private start(ref: PodRef): void {
    let stopServices = () => {};
    const servicesStopped = new Promise<void>((resolve) => (stopServices = resolve));
    const run: PodRun = { controller: new AbortController(), job: new JobState(), stepStarted: new Map(), stopServices, servicesStopped };
    this.runs.set(ref.uid, run);
    this.drive(ref, run).catch((error: unknown) => {
      // Aborts are how runs stop; anything else is a stand-in bug and surfaces as an unhandled rejection.
      if (!isAbort(error)) throw error;
    });
  }

  private async drive(ref: PodRef, run: PodRun): Promise<void> {
    const { signal } = run.controller;
    const pause = () => delay(this.settings.transitionMs, undefined, { signal });
    await pause();
    const pod = this.current(ref);
    if (!pod) return;
    const unschedulable = unschedulableMessage(pod, this.settings.node);
    if (unschedulable) {
      this.update(ref, (draft) => (draft.status.conditions = [unschedulableCondition(unschedulable, this.cluster.now())]));
      this.cluster.events.record(pod, "Warning", "FailedScheduling", unschedulable, "default-scheduler");
      return;
    }
    const scheduled = this.schedule(ref, run)!;
    await pause();
    await this.mountVolumes(ref, signal);
    for (const [index, container] of (scheduled.spec.initContainers ?? []).entries()) {
      await this.pullImage(ref, container, signal);
      this.update(ref, (draft) => {
        startContainer(draft.status.initContainerStatuses![index]!, this.cluster.now(), ref.uid);
        const next = draft.status.initContainerStatuses![index + 1];
        if (next) next.state = { waiting: { reason: "PodInitializing" } };
      });
      const exit = await runContainer(container, true, this.context(ref, run, container, {}));
      this.exited(ref, container.name, exit);
      if (exit.exitCode !== 0) return;
    }
    await pause();
    const programs: Array<Promise<void>> = [];
    const starting: Array<{ container: ContainerSpec; env: Record<string, string> }> = [];
    for (const container of scheduled.spec.containers) {
      const env = containerEnv(scheduled, container, (name) => this.cluster.secrets.get(ref.namespace, name));
      if ("error" in env) {
        this.update(ref, (draft) => Object.assign(findContainerStatus(draft.status, container.name)!, waitingStatus(container, "CreateContainerConfigError", env.error)));
        this.cluster.events.record(scheduled, "Warning", "Failed", `Error: ${env.error}`);
      } else if (!this.settings.imageExists(container.image ?? "")) programs.push(this.pullImage(ref, container, signal));
      else starting.push({ container, env: env.env });
    }
    this.update(ref, (draft) => {
      for (const { container } of starting) startContainer(findContainerStatus(draft.status, container.name)!, this.cluster.now(), ref.uid);
    });
    for (const { container, env } of starting) {
      programs.push(runContainer(container, false, this.context(ref, run, container, env)).then((exit) => this.exited(ref, container.name, exit)));
    }
    await Promise.all(programs);
  }

  private schedule(ref: PodRef, run: PodRun): Pod | undefined {
    this.scheduled += 1;
    const node = `stand-in-node-${(this.scheduled % 3) + 1}`;
    const podIP = `10.88.${(this.scheduled >> 8) & 255}.${this.scheduled & 255}`;
    const pod = this.update(ref, (draft) => {
      const now = this.cluster.now();
      draft.spec.nodeName = node;
      Object.assign(draft.status, {
        conditions: [scheduledCondition(now)],
        hostIP: `192.168.0.${(this.scheduled % 3) + 1}`,
        podIP,
        podIPs: [{ ip: podIP }],
        startTime: rfc3339(now),
        ...initialContainerStatuses(draft.spec),
      });
    });
    if (!pod) return undefined;
    this.cluster.events.record(pod, "Normal", "Scheduled", `Successfully assigned ${ref.namespace}/${ref.name} to ${node}`, "default-scheduler");
    const deadline = pod.spec.activeDeadlineSeconds;
    if (deadline !== undefined) run.deadline = setTimeout(() => this.deadlineExceeded(ref), deadline * 1000);
    return pod;
  }

  /** Waits until every Secret volume's secret exists, with a FailedMount event while one is missing. */
  private async mountVolumes(ref: PodRef, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const pod = this.current(ref);
      if (!pod) return;
      const missing = missingVolumeSecrets(pod, (name) => this.cluster.secrets.get(ref.namespace, name));
      if (missing.length === 0) return;
      const secret = missing[0]!;
      const volume = pod.spec.volumes?.find((entry) => entry.secret?.secretName === secret)?.name ?? secret;
      this.cluster.events.record(pod, "Warning", "FailedMount", `MountVolume.SetUp failed for volume "${volume}" : secret "${secret}" not found`);
      await new Promise<void>((resolve, reject) => {
        const key = `${ref.namespace}/${secret}`;
        const waiters = this.mountWaiters.get(key) ?? new Set();
        this.mountWaiters.set(key, waiters);
        const forget = () => {
          waiters.delete(wake);
          if (waiters.size === 0) this.mountWaiters.delete(key);
        };
        const wake = () => {
          forget();
          resolve();
        };
        waiters.add(wake);
        signal.addEventListener("abort", () => {
          forget();
          reject(signal.reason);
        }, { once: true });
      });
    }
  }

  /** Returns when the image can be pulled; for one that cannot, alternates ErrImagePull and ImagePullBackOff until the pod goes. */
  private async pullImage(ref: PodRef, container: ContainerSpec, signal: AbortSignal): Promise<void> {
    const image = container.image ?? "";
    if (this.settings.imageExists(image)) return;
    const failure = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": not found`;
    let backOff = this.settings.backOffMs;
    for (;;) {
      const pod = this.update(ref, (draft) => (findContainerStatus(draft.status, container.name)!.state = { waiting: { reason: "ErrImagePull", message: failure } }));
      if (!pod) return;
      this.cluster.events.record(pod, "Warning", "Failed", `Failed to pull image "${image}": ${failure}`);
      await delay(this.settings.transitionMs, undefined, { signal });
      this.update(ref, (draft) => (findContainerStatus(draft.status, container.name)!.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` } }));
      this.cluster.events.record(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`);
      await delay(backOff, undefined, { signal });
      backOff = Math.min(backOff * 2, this.settings.backOffMs * 8);
    }
  }

  private context(ref: PodRef, run: PodRun, container: ContainerSpec, env: Record<string, string>): ProgramContext {
    const pod = this.current(ref)!;
    return {
      signal: run.controller.signal,
      now: this.cluster.now,
      pod,
      env,
      log: (text) => this.cluster.logs.append(logKey(ref, container.name), text),
      file: (path) => mountedFile(pod, container, path, (name) => this.cluster.secrets.get(ref.namespace, name)),
      job: run.job,
      stepStarted: (ms) => run.stepStarted.set(container.name, ms),
      stopServices: () => run.stopServices(),
      servicesStopped: run.servicesStopped,
      serviceExitCode: this.settings.serviceExitCode,
      transitionMs: this.settings.transitionMs,
      prepareFailure: this.settings.prepareFailure(pod),
    };
  }

  private exited(ref: PodRef, name: string, exit: ContainerExit): void {
    this.update(ref, (draft) => {
      const entry = findContainerStatus(draft.status, name);
      if (entry && !isTerminated(entry)) terminateContainer(entry, exit.exitCode, this.cluster.now(), exit.message);
    });
    this.cluster.logs.end(logKey(ref, name));
  }

  /** SIGTERM to every running container: steps record `cancelled`, the rest exit 143 (services their usual code). */
  private kill(ref: PodRef, run: PodRun | undefined, mark?: (pod: Pod) => void): void {
    const ended: string[] = [];
    this.update(ref, (draft) => {
      const now = this.cluster.now();
      const specs = [...(draft.spec.initContainers ?? []), ...draft.spec.containers];
      for (const entry of [...(draft.status.initContainerStatuses ?? []), ...(draft.status.containerStatuses ?? [])]) {
        if (!entry.state.running) continue;
        const spec = specs.find((container) => container.name === entry.name);
        const env = Object.fromEntries((spec?.env ?? []).map((variable) => [variable.name, variable.value ?? ""]));
        const step = stepSettings(env);
        const message = step ? terminationMessage({ status: "cancelled", exit: 143, startedMs: run?.stepStarted.get(entry.name), finishedMs: now }) : undefined;
        terminateContainer(entry, isService(entry.name) ? this.settings.serviceExitCode : 143, now, message);
        ended.push(entry.name);
      }
      mark?.(draft);
    });
    for (const name of ended) this.cluster.logs.end(logKey(ref, name));
  }

  private deadlineExceeded(ref: PodRef): void {
    const pod = this.current(ref);
    if (!pod || pod.status.phase === "Succeeded" || pod.status.phase === "Failed") return;
    const run = this.runs.get(ref.uid);
    this.kill(ref, run, (draft) => {
      draft.status.phase = "Failed";
      draft.status.reason = "DeadlineExceeded";
      draft.status.message = "Pod was active on the node longer than the specified deadline";
    });
    if (run) {
      this.runs.delete(ref.uid);
      run.controller.abort();
    }
    this.cluster.events.record(pod, "Warning", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline");
  }
}
