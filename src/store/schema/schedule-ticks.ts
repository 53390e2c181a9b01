// The last schedule tick run per repository pipeline and cron entry: a tick missed during downtime
// runs once at start, not once per missed tick.
import { bigint, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { repositories } from "./repositories";

export const scheduleTicks = pgTable(
  "schedule_ticks",
  {
    repositoryId: bigint("repository_id", { mode: "number" })
      .notNull()
      .references(() => repositories.id, { onDelete: "cascade" }),
    /** Pipeline file and cron entry, e.g. `.gust.yml#0`. */
    entry: text("entry").notNull(),
    lastTickAt: timestamp("last_tick_at", { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.repositoryId, table.entry] })],
);
