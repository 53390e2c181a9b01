// Webhook deliveries, stored before the 202 so work after it survives a crash; the unique key makes
// a redelivery a no-op.
import { sql } from "drizzle-orm";
import { bigint, bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { repositories } from "./repositories";

export const deliveries = pgTable(
  "deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    forge: text("forge").notNull(),
    /** X-GitHub-Delivery, X-Gitlab-Event-UUID or Idempotency-Key. */
    deliveryId: text("delivery_id").notNull(),
    event: text("event").notNull(),
    repositoryId: bigint("repository_id", { mode: "number" }).references(() => repositories.id, { onDelete: "cascade" }),
    payload: jsonb("payload").notNull(),
    /** pending → processed | ignored | failed */
    status: text("status").notNull().default("pending"),
    /** Why it was ignored or failed. */
    detail: text("detail"),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true }),
  },
  (table) => [
    uniqueIndex("deliveries_forge_delivery_id").on(table.forge, table.deliveryId),
    index("deliveries_pending").on(table.receivedAt).where(sql`status = 'pending'`),
  ],
);

export type DeliveryRow = typeof deliveries.$inferSelect;
