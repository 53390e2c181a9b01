import { describe, expect, it } from "vitest";
import { JobLogWriter } from "../../src/logs/job-log-writer";
import { LOG_CHANNEL, type LogBus, LogHub } from "../../src/logs/log-hub";
import type { AppendResult, LogLine, LogStore, NumberedLine, ReadOptions } from "../../src/logs/log-store";
import type { LogSubscription } from "../../src/logs/log-subscription";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import { MemoryLogStore } from "../../src/logs/memory-log-store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { line } from "./log-store-contract";
import { jobMaker } from "./log-database";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

/** A store whose calls take a random number of event-loop turns, to shake out interleavings. */
class JitteryStore implements LogStore {
  constructor(
    private readonly inner: LogStore,
    private readonly random: (n: number) => number,
  ) {}
  private async jitter(): Promise<void> {
    for (let i = this.random(4); i > 0; i--) await tick();
  }
  async append(jobId: number, lines: readonly LogLine[]): Promise<AppendResult> {
    await this.jitter();
    const result = await this.inner.append(jobId, lines);
    await this.jitter();
    return result;
  }
  async read(jobId: number, options: ReadOptions): Promise<NumberedLine[]> {
    await this.jitter();
    const lines = await this.inner.read(jobId, options);
    await this.jitter();
    return lines;
  }
  lineCount(jobId: number): Promise<number> {
    return this.inner.lineCount(jobId);
  }
  delete(jobId: number): Promise<void> {
    return this.inner.delete(jobId);
  }
}

/** Collects what a subscription delivers. */
function collector() {
  const numbers: number[] = [];
  const texts: string[] = [];
  return {
    numbers,
    texts,
    onLines: (lines: NumberedLine[]) => {
      for (const l of lines) {
        numbers.push(l.number);
        texts.push(l.text);
      }
    },
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, i < 100 ? 0 : 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An in-process NOTIFY/LISTEN: delivers asynchronously to every listener, the sender's too. */
class FakeBus implements LogBus {
  private readonly handlers = new Set<{ channel: string; handler: (payload: string) => void; onResync?: () => void }>();
  dropNext = 0;
  sent: string[] = [];
  async notify(channel: string, payload: string): Promise<void> {
    this.sent.push(payload);
    if (this.dropNext > 0) {
      this.dropNext--;
      return;
    }
    for (const entry of this.handlers) if (entry.channel === channel) setImmediate(() => entry.handler(payload));
  }
  async listen(channel: string, handler: (payload: string) => void, options?: { onResync?: () => void }) {
    const entry = { channel, handler, ...(options?.onResync ? { onResync: options.onResync } : {}) };
    this.handlers.add(entry);
    return async () => {
      this.handlers.delete(entry);
    };
  }
  resync(): void {
    for (const entry of this.handlers) entry.onResync?.();
  }
  get listeners(): number {
    return this.handlers.size;
  }
}

describe("LogHub", () => {
  it("replays from the store, then continues live", async () => {
    const hub = new LogHub({ store: new MemoryLogStore() });
    await hub.append(1, range(1, 10).map((i) => line(`l${i}`)));
    const got = collector();
    hub.subscribe(1, 3, got.onLines);
    await until(() => got.numbers.length === 7, "the replay");
    await hub.append(1, [line("l11"), line("l12")]);
    await until(() => got.numbers.length === 9, "live lines");
    expect(got.numbers).toEqual(range(4, 12));
    expect(got.texts).toEqual(range(4, 12).map((i) => `l${i}`));
  });

  it("delivers every line exactly once to subscribers that join while lines are being appended", async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seeded(seed);
      const hub = new LogHub({ store: new JitteryStore(new MemoryLogStore(), random), pageSize: 1 + random(20) });
      const subscribers: Array<{ after: number; got: ReturnType<typeof collector> }> = [];
      let appended = 0;
      const appends: Promise<unknown>[] = [];
      for (let round = 0; round < 40; round++) {
        const size = 1 + random(5);
        const batch = Array.from({ length: size }, () => line(`line`));
        appends.push(hub.append(7, batch));
        appended += size;
        if (random(3) === 0) {
          const got = collector();
          const after = random(appended + 3);
          hub.subscribe(7, after, got.onLines);
          subscribers.push({ after, got });
        }
        for (let i = random(3); i > 0; i--) await tick();
      }
      await Promise.all(appends);
      for (const { after, got } of subscribers) {
        await until(() => got.numbers.length >= appended - after, `seed ${seed}: lines after ${after}`);
        await tick();
        expect(got.numbers, `seed ${seed}, after ${after}`).toEqual(range(after + 1, appended));
      }
      await hub.close();
    }
  });

  it("ends subscriptions after the last line once the job finishes", async () => {
    const hub = new LogHub({ store: new MemoryLogStore() });
    const got = collector();
    const subscription = hub.subscribe(3, 0, got.onLines);
    await hub.append(3, [line("a"), line("b")]);
    await hub.finish(3);
    expect(await subscription.done).toEqual({ reason: "end", lastLine: 2 });
    expect(got.numbers).toEqual([1, 2]);
    expect(hub.subscriberCount).toBe(0);
    // Subscribing to a finished job: the caller knows it finished and ends after the replay.
    const again = collector();
    const late = hub.subscribe(3, 1, again.onLines);
    late.endAfter(await hub.store.lineCount(3));
    expect(await late.done).toEqual({ reason: "end", lastLine: 2 });
    expect(again.numbers).toEqual([2]);
  });

  it("drops a subscriber that cannot keep up instead of buffering for it", async () => {
    const hub = new LogHub({ store: new MemoryLogStore(), maxQueuedBytes: 10_000 });
    let calls = 0;
    const stuck = hub.subscribe(1, 0, () => {
      calls++;
      return new Promise<void>(() => {}); // never done
    });
    const fine = collector();
    hub.subscribe(1, 0, fine.onLines);
    await tick();
    for (let i = 0; i < 100; i++) await hub.append(1, [line("x".repeat(200))]);
    const end = await stuck.done;
    expect(end.reason).toBe("dropped");
    expect(end.reason === "dropped" && end.message).toMatch(/fell behind/);
    expect(calls).toBe(1);
    await until(() => fine.numbers.length === 100, "the healthy subscriber");
    expect(hub.subscriberCount).toBe(1);
  });

  it("drops a subscriber whose callback fails", async () => {
    const hub = new LogHub({ store: new MemoryLogStore() });
    const subscription: LogSubscription = hub.subscribe(1, 0, () => {
      throw new Error("socket gone");
    });
    await hub.append(1, [line("a")]);
    expect(await subscription.done).toMatchObject({ reason: "dropped", message: "socket gone" });
    expect(hub.subscriberCount).toBe(0);
  });

  it("delivers lines appended on one replica to subscribers on another (fake bus)", async () => {
    const job = 1;
    const store = new MemoryLogStore();
    const bus = new FakeBus();
    const errors: unknown[] = [];
    const a = new LogHub({ store, bus, pageSize: 64, onError: (e) => errors.push(e) });
    const b = new LogHub({ store, bus, pageSize: 64, onError: (e) => errors.push(e) });
    await a.start();
    await b.start();
    const onA = collector();
    const onB = collector();
    const onBLate = collector();
    a.subscribe(job, 0, onA.onLines);
    const subB = b.subscribe(job, 0, onB.onLines);
    const writer = new JobLogWriter(job, a, { batchBytes: 500, flushIntervalMs: 1 });
    for (let i = 1; i <= 2000; i++) {
      if (!writer.write(line(`line ${i}`))) await writer.drain();
      if (i === 700) b.subscribe(job, 650, onBLate.onLines);
    }
    await writer.close();
    await a.finish(job);
    expect(await subB.done).toEqual({ reason: "end", lastLine: 2000 });
    await until(() => onBLate.numbers.length === 1350 && onA.numbers.length === 2000, "all lines everywhere");
    expect(onB.numbers).toEqual(range(1, 2000));
    expect(onBLate.numbers).toEqual(range(651, 2000));
    expect(onA.numbers).toEqual(range(1, 2000));
    expect(bus.sent.map((p) => JSON.parse(p) as unknown).at(-1)).toEqual({ jobId: job, lastLine: 2000, end: true });
    expect(errors).toEqual([]);
    await a.close();
    await b.close();
    expect(bus.listeners).toBe(0);
  });

  it("catches up after lost notifications when the bus resyncs", async () => {
    const store = new MemoryLogStore();
    const bus = new FakeBus();
    const a = new LogHub({ store, bus });
    const b = new LogHub({ store, bus });
    await a.start();
    await b.start();
    const onB = collector();
    const subscription = b.subscribe(5, 0, onB.onLines);
    await tick();
    bus.dropNext = 2;
    await a.append(5, [line("1")]);
    await a.append(5, [line("2")]);
    for (let i = 0; i < 5; i++) await tick();
    expect(onB.numbers).toEqual([]);
    bus.resync();
    await until(() => onB.numbers.length === 2, "the resync");
    // A subscriber can also be poked directly (the SSE heartbeat does).
    bus.dropNext = 1;
    await a.append(5, [line("3")]);
    subscription.poke();
    await until(() => onB.numbers.length === 3, "the poke");
    expect(onB.numbers).toEqual([1, 2, 3]);
  });

  it("ignores malformed notifications and reports them", async () => {
    const bus = new FakeBus();
    const errors: unknown[] = [];
    const hub = new LogHub({ store: new MemoryLogStore(), bus, onError: (e) => errors.push(e) });
    await hub.start();
    hub.subscribe(1, 0, () => {});
    await bus.notify(LOG_CHANNEL, "not json");
    await bus.notify(LOG_CHANNEL, JSON.stringify({ jobId: "1", lastLine: 3 }));
    await tick();
    expect(errors.length).toBe(2);
  });
});

describe.each(DATABASE_KINDS)("LogHub on the %s database", (kind) => {
  const test = useTestDatabase(kind);

  it("joins replay and live without gap or duplicate on the database store", async () => {
    const job = await (await jobMaker(test.database.db))();
    const hub = new LogHub({ store: new DatabaseLogStore(test.database.db), pageSize: 50 });
    const writer = new JobLogWriter(job, hub, { batchBytes: 200, flushIntervalMs: 1 });
    const early = collector();
    hub.subscribe(job, 0, early.onLines);
    const late: Array<{ after: number; got: ReturnType<typeof collector> }> = [];
    for (let i = 1; i <= 1000; i++) {
      if (!writer.write(line(`line ${i}`))) await writer.drain();
      if (i % 150 === 0) {
        const got = collector();
        const after = i - 120;
        hub.subscribe(job, after, got.onLines);
        late.push({ after, got });
      }
    }
    await writer.close();
    const total = await hub.store.lineCount(job);
    expect(total).toBe(1000);
    for (const { after, got } of [{ after: 0, got: early }, ...late]) {
      await until(() => got.numbers.length >= total - after, `lines after ${after}`);
      expect(got.numbers).toEqual(range(after + 1, total));
      expect(got.texts).toEqual(range(after + 1, total).map((i) => `line ${i}`));
    }
    await hub.close();
  });

  it("delivers across replicas through the database's NOTIFY/LISTEN", async () => {
    // Replica B has its own client (on PostgreSQL its own pool and LISTEN connection).
    const other = await test.connect();
    const job = await (await jobMaker(test.database.db))();
    const errors: unknown[] = [];
    const a = new LogHub({ store: new DatabaseLogStore(test.database.db), bus: test.database, onError: (e) => errors.push(e) });
    const b = new LogHub({ store: new DatabaseLogStore(other.db), bus: other, onError: (e) => errors.push(e) });
    await a.start();
    await b.start();
    const onB = collector();
    const subscription = b.subscribe(job, 0, onB.onLines);
    const writer = new JobLogWriter(job, a, { flushIntervalMs: 2 });
    for (let i = 1; i <= 300; i++) {
      writer.write(line(`line ${i}`));
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await writer.close();
    await a.finish(job);
    expect(await subscription.done).toEqual({ reason: "end", lastLine: 300 });
    expect(onB.numbers).toEqual(range(1, 300));
    expect(errors).toEqual([]);
    await a.close();
    await b.close();
  });
});
