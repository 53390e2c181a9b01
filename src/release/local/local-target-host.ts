// The local deploy target of one `gust serve` process, over `<dataDir>/releases/local`: one
// LocalPort (router, version processes, files) per release port, shared by every provider made
// for that port. restore() at start brings back every port that served before, exactly as it
// was; close() stops routers and processes (the persisted split stays for the next start).
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { ProviderError } from "../../errors";
import type { DeployProvider, TrafficSplit } from "../deploy-provider";
import { checkPort, type LocalTarget } from "./launch-settings";
import { asProviderError } from "./local-errors";
import { LocalPort, type LocalLogEntry } from "./local-port";
import { LocalProvider, type FaultInjector } from "./local-provider";

export interface LocalTargetHostOptions {
  /** `<dataDir>/releases/local`: a directory per port. */
  root: string;
  /** Where routers listen. Default 127.0.0.1; 0.0.0.0 to serve other machines. */
  listenHost?: string;
  /** How long a version may take to become healthy. Default 60 s. */
  startTimeoutMs?: number;
  /** SIGTERM to SIGKILL, for a version's process group. Default 10 s. */
  stopGraceMs?: number;
  /** Longest wait for a leaving version's in-flight requests. Default 30 s. */
  drainTimeoutMs?: number;
  /** Pause before restarting a version that crashed while serving, doubled per failed attempt. */
  restartBackoffMs?: { initial: number; max: number };
  /** Lifecycle of versions: started, crashed (with their last output), restarted, leftovers ended. */
  onLog?: (entry: LocalLogEntry) => void;
  faults?: FaultInjector;
}

export interface RestoredPort {
  port: number;
  split?: TrafficSplit;
  error?: ProviderError;
}

export class LocalTargetHost {
  private readonly ports = new Map<number, LocalPort>();
  private closed = false;

  constructor(private readonly options: LocalTargetHostOptions) {}

  /** The provider for a target; providers for the same port share its router and processes. */
  provider(target: LocalTarget): DeployProvider {
    return new LocalProvider(this.portFor(checkPort(target.port)), target, this.options.faults);
  }

  /**
   * Brings back every port that had traffic, with its serving versions' processes, and ends what a
   * crashed Gust left running. A port that cannot come back is reported (and logged), the others
   * still do.
   */
  async restore(): Promise<RestoredPort[]> {
    await mkdir(this.options.root, { recursive: true });
    const names = await readdir(this.options.root);
    const ports = names.filter((name) => /^[1-9]\d{0,4}$/.test(name) && Number(name) <= 65535).map(Number);
    return Promise.all(
      ports.map(async (port): Promise<RestoredPort> => {
        try {
          return { port, split: await this.portFor(port).restore() };
        } catch (caught) {
          const error = asProviderError(caught, `restoring local :${port}`);
          this.options.onLog?.({ level: "error", port, message: `local :${port} could not be restored: ${error.message}` });
          return { port, error };
        }
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const ports = [...this.ports.values()];
    this.ports.clear();
    await Promise.all(ports.map((port) => port.close()));
  }

  private portFor(port: number): LocalPort {
    let entry = this.ports.get(port);
    if (!entry) {
      if (this.closed) throw new ProviderError("the local release target is shut down with Gust", { retryable: true, code: "local_host_closing" });
      entry = new LocalPort({
        dir: path.join(this.options.root, String(port)),
        port,
        listenHost: this.options.listenHost ?? "127.0.0.1",
        startTimeoutMs: this.options.startTimeoutMs ?? 60_000,
        stopGraceMs: this.options.stopGraceMs ?? 10_000,
        drainTimeoutMs: this.options.drainTimeoutMs ?? 30_000,
        restartBackoffMs: this.options.restartBackoffMs ?? { initial: 1_000, max: 30_000 },
        onLog: this.options.onLog ?? (() => {}),
      });
      this.ports.set(port, entry);
    }
    return entry;
  }
}
