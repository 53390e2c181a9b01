// Everything Gust runs for one local release port: the router, the serving versions' processes,
// the versions on disk and the persisted split. Changes run one at a time. A change starts the
// versions it needs and waits for them to be healthy before anything moves, persists the split,
// switches the router, then stops versions no longer serving once their requests are done.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ProviderError } from "../../errors";
import { sameSplit, type MetricsWindow, type PublishedVersion, type ReleaseArtifact, type TrafficSplit, type VersionMetrics } from "../deploy-provider";
import { userError } from "./local-errors";
import { LocalRouter, type UpstreamAddress } from "./local-router";
import { PortFiles, type StartedProcess } from "./port-files";
import { processHasVariable, terminateGroup } from "./process-group";
import { INSTANCE_VARIABLE, versionEnvironment } from "./version-env";
import { VersionMetricsRecorder } from "./version-metrics";
import { VersionProcess, type LogLevel } from "./version-process";
import { VersionStore, type LaunchSettings, type VersionManifest } from "./version-store";

export interface LocalLogEntry {
  level: LogLevel;
  port: number;
  version?: string;
  message: string;
  /** The version's last output lines, when they explain the message. */
  lines?: string[];
}

export interface LocalPortOptions {
  /** `<root>/<port>` */
  dir: string;
  port: number;
  /** Where the router listens. */
  listenHost: string;
  startTimeoutMs: number;
  stopGraceMs: number;
  /** Longest wait for a version's in-flight requests before it is stopped anyway. */
  drainTimeoutMs: number;
  restartBackoffMs: { initial: number; max: number };
  onLog: (entry: LocalLogEntry) => void;
}

/** Versions listen on loopback only: the router is the way in. */
const UPSTREAM_HOST = "127.0.0.1";

interface Running {
  process: VersionProcess;
  token: string;
}

export class LocalPort {
  readonly store: VersionStore;
  private readonly files: PortFiles;
  private readonly metricsRecorder = new VersionMetricsRecorder();
  private router: LocalRouter | undefined;
  private readonly running = new Map<string, Running>();
  /** Every version process made and not yet stopped, starting, serving or draining. */
  private readonly processes = new Set<VersionProcess>();
  /** Their process groups, for processes.json. */
  private readonly started = new Map<VersionProcess, StartedProcess>();
  private readonly retiring = new Set<Promise<void>>();
  /** The split the router serves now (undefined until this process applied one). */
  private current: TrafficSplit | undefined;
  private changes: Promise<unknown> = Promise.resolve();
  private readonly closing = new AbortController();

  constructor(private readonly options: LocalPortOptions) {
    this.store = new VersionStore(options.dir);
    this.files = new PortFiles(options.dir);
  }

  get port(): number {
    return this.options.port;
  }

  get label(): string {
    return `local :${this.options.port}`;
  }

  publish(artifact: ReleaseArtifact, launch: LaunchSettings): Promise<PublishedVersion> {
    return this.serialized(() => this.store.publish(artifact, launch));
  }

  async traffic(): Promise<TrafficSplit> {
    return (await this.files.readTraffic()) ?? { stable: null };
  }

  /** Makes a normalized split live (see the file comment). */
  apply(split: TrafficSplit): Promise<TrafficSplit> {
    return this.serialized(() => this.applyNow(split));
  }

  async metrics(version: string, window: MetricsWindow): Promise<VersionMetrics> {
    return this.metricsRecorder.figures(version, window);
  }

  deleteVersion(version: string): Promise<void> {
    return this.serialized(async () => {
      const live = await this.traffic();
      if (servingVersions(live).includes(version)) {
        throw userError(`version ${version} serves traffic on ${this.label}; move traffic off it before deleting it`, "local_version_serving");
      }
      await Promise.all([...this.retiring]);
      await this.store.remove(version);
      this.metricsRecorder.forget(version);
    });
  }

  /**
   * At Gust's start: ends processes a crashed Gust left behind, clears half-done files, and brings
   * back the persisted split with its versions' processes.
   */
  restore(): Promise<TrafficSplit> {
    return this.serialized(async () => {
      await this.store.removeLeftovers();
      await this.endLeftoverProcesses();
      const split = await this.traffic();
      return split.stable === null ? split : this.applyNow(split);
    });
  }

  /** Stops the router (requests in flight finish within the grace) and every version process. */
  async close(): Promise<void> {
    this.closing.abort();
    const router = this.router;
    this.router = undefined;
    if (router) await router.close(this.options.stopGraceMs);
    this.running.clear();
    await Promise.all([...this.processes].map((process) => this.stopProcess(process)));
    await Promise.all([...this.retiring]);
    await this.changes;
    await this.files.writeProcesses([...this.started.values()]).catch(() => undefined);
  }

  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const result = this.changes.then(() => {
      this.throwIfClosing();
      return change();
    });
    this.changes = result.catch(() => undefined);
    return result;
  }

  private throwIfClosing(): void {
    if (this.closing.signal.aborted) {
      throw new ProviderError(`${this.label} is shutting down with Gust`, { retryable: true, code: "local_host_closing" });
    }
  }

  private async applyNow(split: TrafficSplit): Promise<TrafficSplit> {
    const wanted = servingVersions(split);
    const persisted = await this.traffic();
    if (this.current && sameSplit(this.current, split) && sameSplit(persisted, split) && this.allRunning(wanted)) return persisted;

    const manifests = new Map<string, VersionManifest>();
    for (const version of wanted) {
      const manifest = await this.store.read(version);
      if (!manifest) throw userError(`version ${version} is not published on ${this.label}`, "local_version_unknown");
      manifests.set(version, manifest);
    }
    const router = split.stable === null ? undefined : await this.ensureRouter();
    await this.startMissing(manifests);
    this.throwIfClosing();

    await this.files.writeTraffic(split);
    const addresses = new Map<string, UpstreamAddress>();
    for (const version of wanted) addresses.set(version, { host: UPSTREAM_HOST, port: this.running.get(version)!.process.port });
    router?.setTable(split, addresses);
    this.current = split;
    for (const version of [...this.running.keys()]) if (!wanted.includes(version)) this.retire(version);
    if (!router && this.router) {
      // Nothing serves any more: the port is given back.
      const idle = this.router;
      this.router = undefined;
      await idle.close(this.options.drainTimeoutMs);
    }
    return split;
  }

  private allRunning(versions: string[]): boolean {
    return versions.every((version) => this.running.get(version)?.process.stopped === false);
  }

  private async ensureRouter(): Promise<LocalRouter> {
    if (this.router) return this.router;
    const router = new LocalRouter({ host: this.options.listenHost, port: this.options.port, metrics: this.metricsRecorder });
    await router.listen();
    this.router = router;
    return router;
  }

  /** Starts the versions that have no running process; on any failure the ones started here stop again. */
  private async startMissing(manifests: Map<string, VersionManifest>): Promise<void> {
    const missing = [...manifests.values()].filter((manifest) => this.running.get(manifest.version)?.process.stopped !== false);
    const results = await Promise.allSettled(missing.map((manifest) => this.startVersion(manifest)));
    const failure = results.find((result) => result.status === "rejected");
    if (!failure) return;
    await Promise.all(
      results.map(async (result, index) => {
        const version = missing[index]!.version;
        if (result.status === "fulfilled" && !servingVersions(this.current ?? { stable: null }).includes(version)) {
          this.running.delete(version);
          await this.stopProcess(result.value.process);
        }
      }),
    );
    throw failure.reason;
  }

  private async startVersion(manifest: VersionManifest): Promise<Running> {
    const { port } = this.options;
    const token = randomBytes(12).toString("hex");
    const label = `${this.label} version ${manifest.version}`;
    const process: VersionProcess = new VersionProcess({
      label,
      launch: {
        command: manifest.launch.command,
        cwd: this.store.workingDirectory(manifest),
        env: versionEnvironment(manifest.launch.env, { port, version: manifest.version, token }),
        ...(manifest.launch.healthPath ? { healthPath: manifest.launch.healthPath } : {}),
      },
      host: UPSTREAM_HOST,
      startTimeoutMs: this.options.startTimeoutMs,
      stopGraceMs: this.options.stopGraceMs,
      restartBackoffMs: this.options.restartBackoffMs,
      onLog: (level, message, lines) => this.options.onLog({ level, port, version: manifest.version, message, ...(lines ? { lines } : {}) }),
      onSpawn: (pgid) => {
        this.started.set(process, { pgid, token });
        void this.files.writeProcesses([...this.started.values()]).catch(() => undefined);
      },
    });
    this.processes.add(process);
    try {
      await process.start();
    } catch (error) {
      await this.stopProcess(process);
      throw error;
    }
    const running = { process, token };
    this.running.set(manifest.version, running);
    this.options.onLog({ level: "info", port, version: manifest.version, message: `${label} is serving on 127.0.0.1:${process.port}` });
    return running;
  }

  /** Stops a version that left the split once its in-flight requests are done (or the drain timed out). */
  private retire(version: string): void {
    const entry = this.running.get(version);
    if (!entry) return;
    this.running.delete(version);
    const router = this.router;
    const done = (async () => {
      if (router) {
        await Promise.race([router.drained(version), sleep(this.options.drainTimeoutMs, undefined, { signal: this.closing.signal }).catch(() => undefined)]);
      }
      await this.stopProcess(entry.process);
    })();
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
  }

  private async stopProcess(process: VersionProcess): Promise<void> {
    await process.stop();
    this.processes.delete(process);
    this.started.delete(process);
    await this.files.writeProcesses([...this.started.values()]).catch(() => undefined);
  }

  /** Process groups of a previous Gust on this port that still run: ended, when their token proves they are ours. */
  private async endLeftoverProcesses(): Promise<void> {
    const leftovers = await this.files.readProcesses();
    if (leftovers.length === 0) return;
    await Promise.all(
      leftovers.map(async ({ pgid, token }) => {
        if (!(await processHasVariable(pgid, INSTANCE_VARIABLE, token))) return;
        this.options.onLog({ level: "warn", port: this.options.port, message: `${this.label}: ending process group ${pgid} left by a previous Gust` });
        await terminateGroup(pgid, this.options.stopGraceMs);
      }),
    );
    await this.files.writeProcesses([...this.started.values()]);
  }
}

/** The versions a split sends requests to. */
export function servingVersions(split: TrafficSplit): string[] {
  if (split.stable === null) return [];
  return split.canary ? [split.stable, split.canary.version] : [split.stable];
}
