// The last tick of each schedule entry (`<file>#<index>` of a repository): what the schedule
// ticker plans from, so a tick missed while no server ran runs once at start and a new entry does
// not fire for the past. Replicas write concurrently: a recorded tick never moves back.
import { and, asc, eq, notInArray, sql } from "drizzle-orm";
import type { Database, Db } from "./database";
import { scheduleTicks } from "./schema";
import { run } from "./transaction";

export interface ScheduleTick {
  repositoryId: number;
  entry: string;
  lastTickAt: Date;
}

export class ScheduleTicksStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  /** Every entry's last tick (one small row per cron entry of every repository). */
  list(): Promise<ScheduleTick[]> {
    return run(() => this.db.select().from(scheduleTicks).orderBy(asc(scheduleTicks.repositoryId), asc(scheduleTicks.entry)));
  }

  /** Records a tick; a later one another replica recorded stays. */
  async recordTick(repositoryId: number, entry: string, at: Date): Promise<void> {
    await run(() =>
      this.db
        .insert(scheduleTicks)
        .values({ repositoryId, entry, lastTickAt: at })
        .onConflictDoUpdate({ target: [scheduleTicks.repositoryId, scheduleTicks.entry], set: { lastTickAt: sql`greatest(${scheduleTicks.lastTickAt}, excluded.last_tick_at)` } }),
    );
  }

  /** An entry seen for the first time counts from `at`; if it is known already, nothing changes. */
  async startEntry(repositoryId: number, entry: string, at: Date): Promise<void> {
    await run(() => this.db.insert(scheduleTicks).values({ repositoryId, entry, lastTickAt: at }).onConflictDoNothing());
  }

  /** An entry whose cron changed counts from `at` again, like a new one: its old ticks say nothing about the new cron. */
  async restartEntry(repositoryId: number, entry: string, at: Date): Promise<void> {
    await run(() =>
      this.db
        .insert(scheduleTicks)
        .values({ repositoryId, entry, lastTickAt: at })
        .onConflictDoUpdate({ target: [scheduleTicks.repositoryId, scheduleTicks.entry], set: { lastTickAt: at } }),
    );
  }

  /** Forgets the entries of a repository that its pipeline files no longer have. */
  async prune(repositoryId: number, keep: readonly string[]): Promise<number> {
    const where = keep.length > 0 ? and(eq(scheduleTicks.repositoryId, repositoryId), notInArray(scheduleTicks.entry, [...keep])) : eq(scheduleTicks.repositoryId, repositoryId);
    const rows = await run(() => this.db.delete(scheduleTicks).where(where).returning({ entry: scheduleTicks.entry }));
    return rows.length;
  }
}
