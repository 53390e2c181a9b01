// Runs `on: schedule`. The cron entries are read from each repository's pipeline files at its
// default branch's head through the Forge — at start, every refresh interval, and when told a
// push changed that branch — and ONE timer is armed for the next tick of any entry (no polling).
// A due tick is stored as a `gust`/`schedule` delivery whose id names the entry and the tick, so
// replicas firing the same tick store one delivery; the tick is recorded in schedule_ticks and the
// delivery handed to the delivery worker. Decisions are schedule-plan.ts's; this is the I/O.
import { INTERNAL_FORGE, scheduleDeliveryId, type InternalPayload } from "../app/internal-events";
import type { KnownRepository } from "../app/process-delivery";
import { isGustError } from "../errors";
import type { Forge } from "../forges/forge";
import { parsePipeline } from "../pipeline";
import { entryKey, planSchedule, type ScheduledEntry } from "./schedule-plan";

/** Time and timers, so tests can move the clock. */
export interface Clock {
  now(): number;
  /** Calls `run` after `ms`; the function returned cancels it. Must not keep the process alive. */
  setTimer(ms: number, run: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** The last ticks (src/store/schedule-ticks-store.ts); a recorded tick never moves back. */
export interface ScheduleTicks {
  list(): Promise<Array<{ repositoryId: number; entry: string; lastTickAt: Date }>>;
  recordTick(repositoryId: number, entry: string, at: Date): Promise<void>;
  /** First sight of an entry; keeps what is there. */
  startEntry(repositoryId: number, entry: string, at: Date): Promise<void>;
  /** The entry's cron changed: count from `at`, overwriting. */
  restartEntry(repositoryId: number, entry: string, at: Date): Promise<void>;
  prune(repositoryId: number, keep: readonly string[]): Promise<unknown>;
}

export interface ScheduleTickerOptions {
  listRepositories(): Promise<KnownRepository[]>;
  forgeFor(repository: KnownRepository): Promise<Forge>;
  ticks: ScheduleTicks;
  /** Stores a delivery; (forge, deliveryId) is unique, a second one of the same id is a duplicate. */
  recordDelivery(delivery: { forge: string; deliveryId: string; event: string; repositoryId: number; payload: InternalPayload }): Promise<{ status: "created" | "duplicate"; id: number }>;
  /** Gives a new tick's delivery to the delivery worker. */
  handOff(deliveryId: number): void;
  warn(message: string): void;
  clock?: Clock;
  /** How often the schedules are read again from every repository. Default 5 minutes. */
  refreshIntervalMs?: number;
  /** How soon a tick that failed retryably (forge or database down) is tried again. Default 30 s. */
  retryDelayMs?: number;
}

interface RepositorySchedule {
  repository: KnownRepository;
  /** The head the entries were read at: unchanged, the files are not read again. */
  sha: string;
  entries: ScheduledEntry[];
}

/** A timer is re-armed at least this often, whatever the next tick (setTimeout overflows past 24.8 days). */
const MAX_DELAY_MS = 24 * 3_600_000;

export class ScheduleTicker {
  private readonly clock: Clock;
  private readonly schedules = new Map<number, RepositorySchedule>();
  /** cron, zone and branch of each entry as last read: a change restarts the entry's count. */
  private readonly signatures = new Map<string, string>();
  /** The last problem said per repository, so a repository that keeps failing is not logged every refresh. */
  private readonly problems = new Map<number, string>();
  private cancelTick: (() => void) | undefined;
  private cancelRefresh: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** When the armed timer fires; for logs and tests. */
  nextTickAt: Date | undefined;

  constructor(private readonly options: ScheduleTickerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Reads every repository's schedules, runs what is due (a tick missed while stopped) and arms the timers. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.serial(() => this.refreshAll());
    this.armRefresh();
  }

  /** Reads one repository's schedules again (after a push to its default branch). */
  refreshRepository(repositoryId: number): Promise<void> {
    return this.serial(async () => {
      const known = this.schedules.get(repositoryId)?.repository ?? (await this.options.listRepositories()).find((repository) => repository.id === repositoryId);
      if (known) await this.refreshOne(known);
      await this.runDue();
    });
  }

  /** Resolves when the work started so far (a fired timer, a refresh) is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTick?.();
    this.cancelRefresh?.();
    this.cancelTick = this.cancelRefresh = undefined;
    this.nextTickAt = undefined;
    await this.chain;
  }

  /** The entries being followed, for tests and diagnostics. */
  entries(): ScheduledEntry[] {
    return [...this.schedules.values()].flatMap((schedule) => schedule.entries);
  }

  /** One thing at a time: refreshes and ticks never overlap. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (error) {
        this.options.warn(`schedule ticker: ${(error as Error).message}`);
        const retryAt = new Date(this.clock.now() + (this.options.retryDelayMs ?? 30_000));
        this.arm(this.nextTickAt && this.nextTickAt < retryAt ? this.nextTickAt : retryAt);
      }
    });
    this.chain = next;
    return next;
  }

  private armRefresh(): void {
    if (this.stopped) return;
    this.cancelRefresh = this.clock.setTimer(this.options.refreshIntervalMs ?? 5 * 60_000, () => {
      void this.serial(() => this.refreshAll()).finally(() => this.armRefresh());
    });
  }

  private async refreshAll(): Promise<void> {
    const repositories = await this.options.listRepositories();
    const listed = new Set(repositories.map((repository) => repository.id));
    for (const id of this.schedules.keys()) if (!listed.has(id)) this.schedules.delete(id);
    for (const repository of repositories) await this.refreshOne(repository);
    await this.runDue();
  }

  /** Failures keep the entries read before: a forge that is down for a minute stops no schedule. */
  private async refreshOne(repository: KnownRepository): Promise<void> {
    try {
      await this.readSchedule(repository);
      this.problems.delete(repository.id);
    } catch (error) {
      const message = (error as Error).message;
      if (this.problems.get(repository.id) !== message) this.options.warn(`schedules of ${repository.fullName} not read: ${message}`);
      this.problems.set(repository.id, message);
    }
  }

  private async readSchedule(repository: KnownRepository): Promise<void> {
    const forge = await this.options.forgeFor(repository);
    const branch = await forge.defaultBranch(repository.fullName);
    const head = await forge.resolveRef(repository.fullName, `refs/heads/${branch}`);
    const previous = this.schedules.get(repository.id);
    if (previous && previous.sha === head.sha) return;
    const entries: ScheduledEntry[] = [];
    for (const file of await forge.listPipelineFiles(repository.fullName, head.sha)) {
      const parsed = parsePipeline(file.text, file.path);
      if (!parsed.ok) {
        // A file broken on the default branch keeps its entries: the tick then shows the error as a pipeline.
        entries.push(...(previous?.entries.filter((entry) => entry.file === file.path) ?? []));
        continue;
      }
      parsed.pipeline.triggers.schedule.forEach((schedule, index) => {
        entries.push({ repositoryId: repository.id, file: file.path, index, cron: schedule.cron, timezone: schedule.timezone, branch: schedule.branch ?? branch });
      });
    }
    const now = new Date(this.clock.now());
    for (const entry of entries) {
      const key = `${repository.id}\u0000${entryKey(entry)}`;
      const signature = `${entry.cron}\u0000${entry.timezone}`;
      const known = this.signatures.get(key);
      if (known !== undefined && known !== signature) await this.options.ticks.restartEntry(repository.id, entryKey(entry), now);
      this.signatures.set(key, signature);
    }
    await this.options.ticks.prune(repository.id, entries.map(entryKey));
    this.schedules.set(repository.id, { repository, sha: head.sha, entries });
  }

  private async runDue(): Promise<void> {
    const now = new Date(this.clock.now());
    const recorded = new Map((await this.options.ticks.list()).map((tick) => [`${tick.repositoryId}\u0000${tick.entry}`, tick.lastTickAt]));
    const entries = this.entries();
    const plan = planSchedule(
      entries.map((entry) => {
        const lastTickAt = recorded.get(`${entry.repositoryId}\u0000${entryKey(entry)}`);
        return lastTickAt ? { entry, lastTickAt } : { entry };
      }),
      now,
    );
    for (const { entry, message } of plan.invalid) this.options.warn(`schedule ${entryKey(entry)} of repository ${entry.repositoryId}: ${message}`);
    for (const entry of plan.start) await this.options.ticks.startEntry(entry.repositoryId, entryKey(entry), now);
    let retryAt: Date | undefined;
    for (const { entry, tickAt } of plan.due) {
      try {
        await this.fire(entry, tickAt);
      } catch (error) {
        if (!isGustError(error) || !error.retryable) throw error;
        this.options.warn(`schedule ${entryKey(entry)} of repository ${entry.repositoryId}: tick ${tickAt.toISOString()} will be tried again: ${error.message}`);
        retryAt = new Date(now.getTime() + (this.options.retryDelayMs ?? 30_000));
      }
    }
    this.arm(retryAt && (!plan.nextAt || retryAt < plan.nextAt) ? retryAt : plan.nextAt);
  }

  private async fire(entry: ScheduledEntry, tickAt: Date): Promise<void> {
    const schedule = this.schedules.get(entry.repositoryId)!;
    const key = entryKey(entry);
    let payload: InternalPayload | undefined;
    try {
      const forge = await this.options.forgeFor(schedule.repository);
      const head = await forge.resolveRef(schedule.repository.fullName, `refs/heads/${entry.branch}`);
      payload = { repositoryId: entry.repositoryId, ref: head.ref, sha: head.sha, branch: entry.branch, scheduleEntry: key, actor: "schedule" };
    } catch (error) {
      if (isGustError(error) && error.retryable) throw error;
      // A branch that is gone (or credentials that no longer work) will not be back by retrying: skip the tick.
      this.options.warn(`schedule ${key} of ${schedule.repository.fullName}: tick ${tickAt.toISOString()} skipped: ${(error as Error).message}`);
    }
    if (payload) {
      const recorded = await this.options.recordDelivery({
        forge: INTERNAL_FORGE,
        deliveryId: scheduleDeliveryId(entry.repositoryId, key, tickAt),
        event: "schedule",
        repositoryId: entry.repositoryId,
        payload,
      });
      if (recorded.status === "created") this.options.handOff(recorded.id);
    }
    // After the delivery: a crash in between stores the same delivery id again, a duplicate.
    await this.options.ticks.recordTick(entry.repositoryId, key, tickAt);
  }

  private arm(at: Date | undefined): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
    this.nextTickAt = at;
    if (this.stopped || !at) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, at.getTime() - this.clock.now()));
    this.cancelTick = this.clock.setTimer(delay, () => void this.serial(() => this.runDue()));
  }
}
