// The schedule ticker against a repository on disk (LocalForge), the real stores on PGlite (and
// PostgreSQL with TEST_DATABASE_URL) and the real delivery processor, on a clock the test moves:
// no sleeping, each tick happens exactly when the test says.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processDelivery } from "../../src/app/process-delivery";
import { ForgeError } from "../../src/errors";
import type { Forge } from "../../src/forges/forge";
import { LocalForge } from "../../src/forges/local";
import { ScheduleTicker, type Clock } from "../../src/scheduler/schedule-ticker";
import { RepositoriesStore, ScheduleTicksStore, type Database, type Repository } from "../../src/store";
import { deliveries, pipelines, scheduleTicks } from "../../src/store/schema";
import { createGitRepository } from "../forges/harnesses";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { sealer } from "../store/fixtures";
import { storeProcessor } from "../app/store-processor";

/** Timers fire only when the test moves the clock past them. */
class FakeClock implements Clock {
  private timers: Array<{ at: number; run: () => void; live: boolean }> = [];

  constructor(public time: number) {}

  now(): number {
    return this.time;
  }

  setTimer(ms: number, run: () => void): () => void {
    const timer = { at: this.time + ms, run, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }

  /** When the armed timers fire, earliest first. */
  armed(): string[] {
    return this.timers.filter((timer) => timer.live).map((timer) => new Date(timer.at).toISOString()).sort();
  }

  /** Moves to `iso` and fires what came due, earliest first. */
  moveTo(iso: string): void {
    this.time = Date.parse(iso);
    for (const timer of this.timers.filter((item) => item.live && item.at <= this.time).sort((a, b) => a.at - b.at)) {
      timer.live = false;
      timer.run();
    }
  }
}

const EVERY_FIVE = "on: {schedule: [{cron: '*/5 * * * *'}]}\njobs:\n  tick: {steps: [{run: echo tick}]}\n";
const REFRESH_MS = 6 * 3_600_000;

describe.each(DATABASE_KINDS)("schedule ticker (%s)", (kind) => {
  const db = useTestDatabase(kind);
  const warnings: string[] = [];
  const cleanups: Array<() => void> = [];
  let repositories: RepositoriesStore;

  beforeAll(() => {
    repositories = new RepositoriesStore(db.database, sealer);
  });
  afterAll(() => cleanups.forEach((cleanup) => cleanup()));

  /** A git repository of its own per test, registered; `push` makes a new commit on main. */
  async function repositoryWith(files: Record<string, string>) {
    const git = createGitRepository();
    cleanups.push(() => git.remove());
    let head = git.commit(files);
    const repository = await repositories.createRepository({ forge: "local", fullName: git.dir });
    return { repository, sha: head, push: (next: Record<string, string>) => (head = git.commit(next, head)) };
  }

  function tickerFor(repository: Repository, clock: FakeClock, options: { database?: Database; forge?: Forge } = {}) {
    const database = options.database ?? db.database;
    const processor = storeProcessor(database, options.forge ?? new LocalForge(), warnings);
    const processing: Array<Promise<unknown>> = [];
    const ticker = new ScheduleTicker({
      listRepositories: async () => [repository],
      forgeFor: processor.forgeFor,
      ticks: new ScheduleTicksStore(database),
      recordDelivery: (delivery) => processor.deliveries.recordDelivery(delivery),
      handOff: (id) => void processing.push(processor.deliveries.getDelivery(id).then((delivery) => processDelivery(delivery!, processor))),
      warn: (message) => void warnings.push(message),
      clock,
      refreshIntervalMs: REFRESH_MS,
      retryDelayMs: 30_000,
    });
    return {
      ticker,
      /** Waits for the ticker and for the deliveries it handed over. */
      settled: async () => {
        await ticker.idle();
        await Promise.all(processing);
      },
    };
  }

  async function deliveryIds(repositoryId: number): Promise<string[]> {
    return (await db.database.db.select().from(deliveries).where(eq(deliveries.repositoryId, repositoryId))).map((row) => row.deliveryId).sort();
  }

  async function runsOf(repositoryId: number) {
    const { id, name, event, ref, branch, sha, status } = pipelines;
    return db.database.db.select({ id, name, event, ref, branch, sha, status }).from(pipelines).where(eq(pipelines.repositoryId, repositoryId));
  }

  async function lastTick(repositoryId: number, entry: string): Promise<string | undefined> {
    const [row] = await db.database.db.select().from(scheduleTicks).where(and(eq(scheduleTicks.repositoryId, repositoryId), eq(scheduleTicks.entry, entry)));
    return row?.lastTickAt.toISOString();
  }

  it("fires at the tick and not before, with one timer armed for the next tick", async () => {
    const { repository, sha } = await repositoryWith({ ".gust.yml": EVERY_FIVE });
    const clock = new FakeClock(Date.parse("2025-01-01T10:02:00Z"));
    const { ticker, settled } = tickerFor(repository, clock);
    await ticker.start();
    expect(await deliveryIds(repository.id)).toEqual([]);
    // A new entry counts from now: nothing for 10:00.
    expect(await lastTick(repository.id, ".gust.yml#0")).toBe("2025-01-01T10:02:00.000Z");
    expect(clock.armed()).toEqual(["2025-01-01T10:05:00.000Z", "2025-01-01T16:02:00.000Z"]);

    clock.moveTo("2025-01-01T10:04:59.999Z");
    await settled();
    expect(await deliveryIds(repository.id)).toEqual([]);

    clock.moveTo("2025-01-01T10:05:00.000Z");
    await settled();
    expect(await deliveryIds(repository.id)).toEqual([`schedule:${repository.id}:.gust.yml#0:2025-01-01T10:05:00.000Z`]);
    const runs = await runsOf(repository.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ event: "schedule", ref: "refs/heads/main", branch: "main", sha, status: "pending" });
    expect(await lastTick(repository.id, ".gust.yml#0")).toBe("2025-01-01T10:05:00.000Z");
    expect(clock.armed()).toEqual(["2025-01-01T10:10:00.000Z", "2025-01-01T16:02:00.000Z"]);
    await ticker.stop();
    expect(clock.armed()).toEqual([]);
  });

  it("runs the ticks missed while stopped once, at start", async () => {
    const { repository } = await repositoryWith({ ".gust.yml": EVERY_FIVE });
    const clock = new FakeClock(Date.parse("2025-01-01T10:02:00Z"));
    const first = tickerFor(repository, clock);
    await first.ticker.start();
    clock.moveTo("2025-01-01T10:05:00Z");
    await first.settled();
    await first.ticker.stop();

    clock.time = Date.parse("2025-01-01T11:37:00Z");
    const second = tickerFor(repository, clock);
    await second.ticker.start();
    await second.settled();
    expect(await deliveryIds(repository.id)).toEqual([
      `schedule:${repository.id}:.gust.yml#0:2025-01-01T10:05:00.000Z`,
      `schedule:${repository.id}:.gust.yml#0:2025-01-01T11:35:00.000Z`,
    ]);
    expect(await runsOf(repository.id)).toHaveLength(2);
    expect(second.ticker.nextTickAt?.toISOString()).toBe("2025-01-01T11:40:00.000Z");
    await second.ticker.stop();
  });

  it("reads schedules again after a push: a new entry does not fire for the past, a changed cron starts over", async () => {
    const daily = "on: {schedule: [{cron: '0 0 * * *'}]}\njobs:\n  d: {steps: [{run: echo}]}\n";
    const { repository, push } = await repositoryWith({ ".gust.yml": daily });
    const clock = new FakeClock(Date.parse("2025-01-01T10:02:00Z"));
    const { ticker, settled } = tickerFor(repository, clock);
    await ticker.start();

    // 10:40: the cron becomes 10:30 daily, and an hourly pipeline appears. Neither fires for 10:30 or 10:00.
    clock.time = Date.parse("2025-01-01T10:40:00Z");
    push({ ".gust.yml": daily.replace("0 0 * * *", "30 10 * * *"), ".gust/hourly.yml": "on: {schedule: [{cron: '0 * * * *', timezone: Europe/Berlin}]}\njobs:\n  h: {steps: [{run: echo}]}\n" });
    await ticker.refreshRepository(repository.id);
    await settled();
    expect(ticker.entries().map((entry) => [entry.file, entry.cron, entry.timezone])).toEqual([
      [".gust.yml", "30 10 * * *", "UTC"],
      [".gust/hourly.yml", "0 * * * *", "Europe/Berlin"],
    ]);
    expect(await deliveryIds(repository.id)).toEqual([]);
    expect(ticker.nextTickAt?.toISOString()).toBe("2025-01-01T11:00:00.000Z");

    clock.moveTo("2025-01-01T11:00:00Z");
    await settled();
    expect(await deliveryIds(repository.id)).toEqual([`schedule:${repository.id}:.gust/hourly.yml#0:2025-01-01T11:00:00.000Z`]);
    expect((await runsOf(repository.id)).map((run) => run.name)).toEqual(["hourly"]);

    // The file goes away: its tick row is forgotten and nothing fires for it.
    push({ ".gust.yml": daily.replace("0 0 * * *", "30 10 * * *") });
    clock.moveTo("2025-01-01T11:20:00Z");
    await ticker.refreshRepository(repository.id);
    await settled();
    expect(await lastTick(repository.id, ".gust/hourly.yml#0")).toBeUndefined();
    expect(ticker.nextTickAt?.toISOString()).toBe("2025-01-02T10:30:00.000Z");
    await ticker.stop();
  });

  it("stores one delivery and creates one pipeline when two tickers fire the same tick", async () => {
    const { repository } = await repositoryWith({ ".gust.yml": EVERY_FIVE });
    const other = await db.connect();
    const clocks = [new FakeClock(Date.parse("2025-01-01T10:02:00Z")), new FakeClock(Date.parse("2025-01-01T10:02:00Z"))];
    const tickers = [tickerFor(repository, clocks[0]!), tickerFor(repository, clocks[1]!, { database: other })];
    await Promise.all(tickers.map(({ ticker }) => ticker.start()));
    for (const at of ["2025-01-01T10:05:00Z", "2025-01-01T10:10:00Z"]) {
      for (const clock of clocks) clock.moveTo(at);
      await Promise.all(tickers.map(({ settled }) => settled()));
    }
    expect(await deliveryIds(repository.id)).toEqual([
      `schedule:${repository.id}:.gust.yml#0:2025-01-01T10:05:00.000Z`,
      `schedule:${repository.id}:.gust.yml#0:2025-01-01T10:10:00.000Z`,
    ]);
    expect(await runsOf(repository.id)).toHaveLength(2);
    await Promise.all(tickers.map(({ ticker }) => ticker.stop()));
  });

  it("tries a tick again soon when the forge fails retryably, and skips one whose branch is gone", async () => {
    const release = "on: {schedule: [{cron: '*/5 * * * *'}, {cron: '*/5 * * * *', branch: release}]}\njobs:\n  r: {steps: [{run: echo}]}\n";
    const { repository } = await repositoryWith({ ".gust.yml": release });
    const local = new LocalForge();
    let failures = 1;
    const flaky: Forge = Object.assign(Object.create(local) as LocalForge, {
      resolveRef: async (repo: string, ref: string) => {
        if (ref === "refs/heads/main" && failures > 0 && clock.time >= Date.parse("2025-01-01T10:05:00Z")) {
          failures--;
          throw new ForgeError("could not reach the forge", { retryable: true, code: "forge_unreachable" });
        }
        return local.resolveRef(repo, ref);
      },
    });
    const clock = new FakeClock(Date.parse("2025-01-01T10:02:00Z"));
    const { ticker, settled } = tickerFor(repository, clock, { forge: flaky });
    await ticker.start();
    clock.moveTo("2025-01-01T10:05:00Z");
    await settled();
    expect(await deliveryIds(repository.id)).toEqual([]);
    expect(warnings.some((line) => line.includes(".gust.yml#1") && line.includes("skipped") && line.includes("'refs/heads/release'"))).toBe(true);
    expect(await lastTick(repository.id, ".gust.yml#1")).toBe("2025-01-01T10:05:00.000Z");
    expect(ticker.nextTickAt?.toISOString()).toBe("2025-01-01T10:05:30.000Z");

    clock.moveTo("2025-01-01T10:05:30Z");
    await settled();
    expect(await deliveryIds(repository.id)).toEqual([`schedule:${repository.id}:.gust.yml#0:2025-01-01T10:05:00.000Z`]);
    expect(ticker.nextTickAt?.toISOString()).toBe("2025-01-01T10:10:00.000Z");
    await ticker.stop();
  });

  it("reads every repository again at the refresh interval", async () => {
    const { repository, push } = await repositoryWith({ "README.md": "no pipelines yet\n" });
    const clock = new FakeClock(Date.parse("2025-01-01T10:02:00Z"));
    const { ticker, settled } = tickerFor(repository, clock);
    await ticker.start();
    expect(ticker.entries()).toEqual([]);
    expect(ticker.nextTickAt).toBeUndefined();
    push({ ".gust.yml": EVERY_FIVE });
    clock.moveTo("2025-01-01T16:02:00Z");
    await settled();
    expect(ticker.entries()).toHaveLength(1);
    expect(ticker.nextTickAt?.toISOString()).toBe("2025-01-01T16:05:00.000Z");
    expect(clock.armed()).toEqual(["2025-01-01T16:05:00.000Z", "2025-01-01T22:02:00.000Z"]);
    await ticker.stop();
  });
});
