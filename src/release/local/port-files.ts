// The state of one port that must survive a restart of Gust, beside its versions:
// `traffic.json`, the split that is live (what restore() brings back), and `processes.json`, the
// process groups started for it with the token in their environment (what a Gust killed with -9
// left running, found and ended at the next start).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { TrafficSplit } from "../deploy-provider";
import { readJson, writeJsonAtomic } from "./atomic-file";
import { asProviderError } from "./local-errors";

export interface StartedProcess {
  pgid: number;
  /** Value of GUST_LOCAL_INSTANCE in the process's environment. */
  token: string;
}

export class PortFiles {
  private readonly trafficFile: string;
  private readonly processesFile: string;
  private processWrites: Promise<unknown> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.trafficFile = path.join(dir, "traffic.json");
    this.processesFile = path.join(dir, "processes.json");
  }

  async readTraffic(): Promise<TrafficSplit | undefined> {
    try {
      return ((await readJson(this.trafficFile)) as { split: TrafficSplit } | undefined)?.split;
    } catch (error) {
      throw asProviderError(error, `reading ${this.trafficFile}`);
    }
  }

  async writeTraffic(split: TrafficSplit): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      await writeJsonAtomic(this.trafficFile, { split, updatedAt: new Date().toISOString() }, 0o644);
    } catch (error) {
      throw asProviderError(error, `writing ${this.trafficFile}`);
    }
  }

  async readProcesses(): Promise<StartedProcess[]> {
    const value = (await readJson(this.processesFile).catch(() => undefined)) as { processes?: StartedProcess[] } | undefined;
    return value?.processes ?? [];
  }

  /** Writes run in call order, so the last call's list is what stays on disk. */
  writeProcesses(processes: StartedProcess[]): Promise<void> {
    const write = this.processWrites.then(async () => {
      await mkdir(this.dir, { recursive: true });
      await writeJsonAtomic(this.processesFile, { processes });
    });
    this.processWrites = write.catch(() => undefined);
    return write;
  }
}
