// Remembers, per job or pipeline run, what was last reported and where (the check run id), so a
// second identical report costs no API call and later reports update instead of creating. Bounded:
// the caller keeps the reportId durably, this is only the fast path within one process.
import type { JobStatusUpdate, PipelineStatusUpdate, ReportReceipt } from "./forge";

export interface LedgerEntry {
  receipt: ReportReceipt;
  /** The update last sent, as compared by fingerprint(). */
  fingerprint: string;
}

export class ReportLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly limit = 10_000) {}

  /**
   * Runs the reports of one job one after another: a second update sent before the first one's
   * check run exists would otherwise create a second check run.
   */
  serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(
      () => {},
      () => {},
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return result;
  }

  get(key: string): LedgerEntry | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Least recently used goes first: re-insert on use.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: LedgerEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

export function reportKey(repo: string, update: JobStatusUpdate | PipelineStatusUpdate): string {
  const subject = "jobKey" in update ? ["job", update.jobKey, update.attempt ?? 1] : ["pipeline"];
  return JSON.stringify([repo, update.sha, update.pipelineName, ...subject, update.externalId ?? ""]);
}

/** Two updates with the same fingerprint show the same thing; reportId only says where. */
export function fingerprint(update: JobStatusUpdate | PipelineStatusUpdate): string {
  return stableJson({ ...update, reportId: undefined });
}

/** JSON with object keys sorted at every level, so key order never makes two equal updates differ. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
