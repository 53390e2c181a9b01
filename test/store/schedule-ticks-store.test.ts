// Schedule ticks: replicas record ticks out of order and at once, and a recorded tick never moves
// back; a new entry's start keeps what is there; a changed entry starts over; gone entries go.
import { describe, expect, it } from "vitest";
import { ScheduleTicksStore } from "../../src/store/schedule-ticks-store";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository } from "./fixtures";

const at = (iso: string) => new Date(iso);

describe.each(DATABASE_KINDS)("schedule ticks (%s)", (kind) => {
  const test = useTestDatabase(kind);

  async function ticksOf(store: ScheduleTicksStore, repositoryId: number) {
    return (await store.list()).filter((tick) => tick.repositoryId === repositoryId).map((tick) => [tick.entry, tick.lastTickAt.toISOString()]);
  }

  it("keeps the latest tick whatever order replicas record them in", async () => {
    const store = new ScheduleTicksStore(test.database);
    const { id } = await createRepository(test.database);
    await store.recordTick(id, ".gust.yml#0", at("2025-01-01T10:10:00Z"));
    await store.recordTick(id, ".gust.yml#0", at("2025-01-01T10:05:00Z"));
    expect(await ticksOf(store, id)).toEqual([[".gust.yml#0", "2025-01-01T10:10:00.000Z"]]);

    const other = new ScheduleTicksStore(await test.connect());
    const ticks = ["10:15", "10:25", "10:20", "10:30", "10:15"].map((time) => at(`2025-01-01T${time}:00Z`));
    await Promise.all(ticks.map((tick, i) => (i % 2 ? other : store).recordTick(id, ".gust.yml#0", tick)));
    expect(await ticksOf(store, id)).toEqual([[".gust.yml#0", "2025-01-01T10:30:00.000Z"]]);
  });

  it("starts a new entry without touching a known one, restarts a changed one, forgets gone ones", async () => {
    const store = new ScheduleTicksStore(test.database);
    const { id } = await createRepository(test.database);
    await store.startEntry(id, ".gust.yml#0", at("2025-01-01T10:00:00Z"));
    await store.startEntry(id, ".gust.yml#0", at("2025-01-01T11:00:00Z"));
    await store.startEntry(id, ".gust/nightly.yml#0", at("2025-01-01T11:00:00Z"));
    expect(await ticksOf(store, id)).toEqual([
      [".gust.yml#0", "2025-01-01T10:00:00.000Z"],
      [".gust/nightly.yml#0", "2025-01-01T11:00:00.000Z"],
    ]);
    await store.restartEntry(id, ".gust/nightly.yml#0", at("2025-01-01T09:00:00Z"));
    expect(await ticksOf(store, id)).toContainEqual([".gust/nightly.yml#0", "2025-01-01T09:00:00.000Z"]);

    expect(await store.prune(id, [".gust.yml#0"])).toBe(1);
    expect(await ticksOf(store, id)).toEqual([[".gust.yml#0", "2025-01-01T10:00:00.000Z"]]);
    expect(await store.prune(id, [])).toBe(1);
    expect(await ticksOf(store, id)).toEqual([]);
  });
});
