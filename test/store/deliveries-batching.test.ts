// Group commit of deliveries: what a batch writes and answers (pure), how the batcher groups calls
// (a fake write), and the same on a real database: one statement per batch (the rows share a
// transaction id), duplicates inside a batch, ids in the order of the calls, a bad row alone failing.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors";
import { DeliveriesStore } from "../../src/store/deliveries";
import { batchResults, DeliveryBatcher, planBatch, type NewDelivery } from "../../src/store/delivery-batcher";
import { rowsOf } from "../../src/store/transaction";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository } from "./fixtures";

const delivery = (deliveryId: string, forge = "github"): NewDelivery => ({ forge, deliveryId, event: "push", payload: { deliveryId } });

/** A write that stores in a map, records each batch, and can be held or made to fail. */
function fakeWrite() {
  const stored = new Map<string, number>();
  const batches: string[][] = [];
  let next = 1;
  let failWith: unknown;
  const held: Array<() => void> = [];
  let holding = false;
  const write = async (rows: NewDelivery[]) => {
    batches.push(rows.map((row) => `${row.forge}/${row.deliveryId}`));
    if (holding) await new Promise<void>((resolve) => held.push(resolve));
    if (failWith !== undefined) throw failWith;
    return rows.map((row) => {
      const key = `${row.forge}/${row.deliveryId}`;
      const known = stored.get(key);
      if (known !== undefined) return { id: known, created: false };
      stored.set(key, next);
      return { id: next++, created: true };
    });
  };
  return {
    write,
    batches,
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      for (const resolve of held.splice(0)) resolve();
    },
    fail: (error: unknown) => void (failWith = error),
  };
}

describe("planBatch and batchResults", () => {
  it("writes each key once and makes later callers of a created key duplicates of it", () => {
    const plan = planBatch([delivery("a"), delivery("b"), delivery("a"), delivery("a", "gitlab")]);
    expect(plan.rows.map((row) => `${row.forge}/${row.deliveryId}`)).toEqual(["github/a", "github/b", "gitlab/a"]);
    expect(plan.callers).toEqual([
      { row: 0, first: true },
      { row: 1, first: true },
      { row: 0, first: false },
      { row: 2, first: true },
    ]);
    expect(batchResults(plan, [{ id: 7, created: true }, { id: 3, created: false }, { id: 8, created: true }])).toEqual([
      { status: "created", id: 7 },
      { status: "duplicate", id: 3 },
      { status: "duplicate", id: 7 },
      { status: "created", id: 8 },
    ]);
    expect(() => batchResults(plan, [{ id: 7, created: true }])).toThrow(/3 rows written, 1 answers/);
  });
});

/** Resolves in the check phase of this turn of the event loop: after the batcher's own setImmediate, before any timer. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("DeliveryBatcher", () => {
  it("writes what one turn of the event loop recorded together, at its end, and batches what comes during a write", async () => {
    const fake = fakeWrite();
    const batcher = new DeliveryBatcher(fake.write);
    fake.hold();
    const first = ["1", "2"].map((id) => batcher.record(delivery(id)));
    expect(fake.batches).toEqual([]);
    await nextTurn();
    expect(fake.batches).toEqual([["github/1", "github/2"]]);
    const later = ["3", "4", "3", "5"].map((id) => batcher.record(delivery(id)));
    await nextTurn();
    expect(fake.batches).toHaveLength(1);
    fake.release();
    expect(await Promise.all(first)).toEqual([
      { status: "created", id: 1 },
      { status: "created", id: 2 },
    ]);
    expect(await Promise.all(later)).toEqual([
      { status: "created", id: 3 },
      { status: "created", id: 4 },
      { status: "duplicate", id: 3 },
      { status: "created", id: 5 },
    ]);
    expect(fake.batches).toEqual([["github/1", "github/2"], ["github/3", "github/4", "github/5"]]);
    // Idle again as soon as the callers heard: the next one is written in this very turn, no timer.
    const next = batcher.record(delivery("1"));
    await nextTurn();
    expect(fake.batches).toHaveLength(3);
    expect(await next).toEqual({ status: "duplicate", id: 1 });
  });

  it("keeps batches within maxBatch, one write at a time, ids in the order of the calls", async () => {
    const fake = fakeWrite();
    const batcher = new DeliveryBatcher(fake.write, { maxBatch: 2 });
    fake.hold();
    const results = ["1", "2", "3", "4", "5"].map((id) => batcher.record(delivery(id)));
    await nextTurn();
    expect(fake.batches).toEqual([["github/1", "github/2"]]);
    fake.release();
    expect((await Promise.all(results)).map((result) => result.id)).toEqual([1, 2, 3, 4, 5]);
    expect(fake.batches).toEqual([["github/1", "github/2"], ["github/3", "github/4"], ["github/5"]]);
  });

  it("rejects every caller of a batch whose write failed, and goes on with the next", async () => {
    const fake = fakeWrite();
    const batcher = new DeliveryBatcher(fake.write);
    fake.hold();
    const first = batcher.record(delivery("1"));
    await nextTurn();
    const batch = ["2", "3", "2"].map((id) => batcher.record(delivery(id)));
    const down = new StoreError("database unreachable", { retryable: true });
    fake.fail(down);
    fake.release();
    for (const result of await Promise.allSettled([first, ...batch])) expect(result).toEqual({ status: "rejected", reason: down });
    expect(fake.batches).toEqual([["github/1"], ["github/2", "github/3"]]);
    fake.fail(undefined);
    expect(await batcher.record(delivery("2"))).toEqual({ status: "created", id: 1 });
  });

  it("writes the rows of a batch one by one after a non-retryable failure, so a bad row fails only its callers", async () => {
    const fake = fakeWrite();
    const poison = new StoreError("database: unsupported Unicode escape sequence (SQLSTATE 22P05)", { retryable: false });
    const tried: string[][] = [];
    const batcher = new DeliveryBatcher(async (rows) => {
      tried.push(rows.map((row) => row.deliveryId));
      if (rows.some((row) => row.deliveryId === "bad")) throw poison;
      return fake.write(rows);
    });
    const settled = await Promise.allSettled(["2", "bad", "3", "bad"].map((id) => batcher.record(delivery(id))));
    expect(settled).toEqual([
      { status: "fulfilled", value: { status: "created", id: 1 } },
      { status: "rejected", reason: poison },
      { status: "fulfilled", value: { status: "created", id: 2 } },
      { status: "rejected", reason: poison },
    ]);
    // The batch, then each row alone: "bad" once for both of its callers.
    expect(tried).toEqual([["2", "bad", "3"], ["2"], ["bad"], ["3"]]);
  });
});

describe.each(DATABASE_KINDS)("deliveries batched (%s)", (kind) => {
  const test = useTestDatabase(kind);

  /** The transaction that wrote each delivery: rows of one statement share it. */
  async function writers(deliveryIds: string[]): Promise<Map<string, string>> {
    const rows = await rowsOf<{ delivery_id: string; xmin: string }>(
      test.database.db,
      sql`select delivery_id, xmin::text as xmin from deliveries where delivery_id in (${sql.join(deliveryIds.map((id) => sql`${id}`), sql`, `)})`,
    );
    return new Map(rows.map((row) => [row.delivery_id, row.xmin]));
  }

  it("stores the calls of one turn of the event loop in one statement, ids in call order, duplicates named", async () => {
    const store = new DeliveriesStore(test.database);
    const repository = await createRepository(test.database);
    const prefix = `batch-${kind}`;
    await store.recordDelivery(delivery(`${prefix}-old`));
    const record = (name: string) => store.recordDelivery({ ...delivery(`${prefix}-${name}`), repositoryId: repository.id });
    const lone = record("lone");
    await nextTurn();
    const calls = ["a", "b", "a", "old", "c", "b"].map(record);
    const results = [await lone, ...(await Promise.all(calls))];
    const [first, a, b, aAgain, old, c, bAgain] = results;
    expect(results.map((result) => result.status)).toEqual(["created", "created", "created", "duplicate", "duplicate", "created", "duplicate"]);
    expect(aAgain!.id).toBe(a!.id);
    expect(bAgain!.id).toBe(b!.id);
    expect([first!.id, a!.id, b!.id, c!.id]).toEqual([first!.id, a!.id, b!.id, c!.id].sort((x, y) => x - y));
    expect(new Set([first!.id, a!.id, b!.id, c!.id]).size).toBe(4);
    const written = await writers(["lone", "a", "b", "c", "old"].map((name) => `${prefix}-${name}`));
    // The first call went alone, in its turn of the event loop; the others went together.
    expect(written.get(`${prefix}-a`)).toBe(written.get(`${prefix}-b`));
    expect(written.get(`${prefix}-c`)).toBe(written.get(`${prefix}-a`));
    expect(written.get(`${prefix}-lone`)).not.toBe(written.get(`${prefix}-a`));
    expect((await store.getDelivery(old!.id))?.deliveryId).toBe(`${prefix}-old`);
    expect(await store.getDelivery(a!.id)).toMatchObject({ deliveryId: `${prefix}-a`, repositoryId: repository.id, payload: { deliveryId: `${prefix}-a` }, status: "pending" });
  });

  it("rejects only the callers of a row the database refuses; the rest of its batch is stored", async () => {
    const store = new DeliveriesStore(test.database);
    const prefix = `poison-${kind}`;
    const [first, bad, good] = await Promise.allSettled([
      store.recordDelivery(delivery(`${prefix}-first`)),
      // jsonb refuses \u0000 in a string.
      store.recordDelivery({ ...delivery(`${prefix}-bad`), payload: { message: "a\u0000b" } }),
      store.recordDelivery(delivery(`${prefix}-good`)),
    ]);
    expect(first).toMatchObject({ status: "fulfilled", value: { status: "created" } });
    expect(bad).toMatchObject({ status: "rejected", reason: { name: "StoreError", retryable: false } });
    expect(good).toMatchObject({ status: "fulfilled", value: { status: "created" } });
    expect([...(await writers([`${prefix}-first`, `${prefix}-bad`, `${prefix}-good`])).keys()].sort()).toEqual([`${prefix}-first`, `${prefix}-good`]);
  });
});
