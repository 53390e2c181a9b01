// Webhook deliveries: stored before the webhook is answered, so the work after the 202 survives a
// crash; the (forge, delivery id) unique key makes a redelivery a no-op that names the first one.
import { and, asc, eq, sql } from "drizzle-orm";
import type { Database, Db } from "./database";
import { deliveries, type DeliveryRow } from "./schema";
import { rowsOf, run } from "./transaction";

export interface NewDelivery {
  forge: string;
  deliveryId: string;
  event: string;
  repositoryId?: number;
  payload: unknown;
}

export type RecordResult = { status: "created"; id: number } | { status: "duplicate"; id: number };

export type DeliveryStatus = "pending" | "processed" | "ignored" | "failed";

export class DeliveriesStore {
  private readonly db: Db;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
  }

  async recordDelivery(delivery: NewDelivery): Promise<RecordResult> {
    const { forge, deliveryId, event, payload } = delivery;
    const repositoryId = delivery.repositoryId ?? null;
    // One round trip: the insert, or the row that was there. A concurrent first insert of the same
    // id commits after this statement's snapshot, so neither half sees a row: ask again below.
    const rows = await run(() =>
      rowsOf<{ id: number | string; created: boolean }>(
        this.db,
        sql`with inserted as (
              insert into ${deliveries} (forge, delivery_id, event, repository_id, payload)
              values (${forge}, ${deliveryId}, ${event}, ${repositoryId}, ${JSON.stringify(payload ?? null)}::jsonb)
              on conflict (forge, delivery_id) do nothing
              returning id)
            select id, true as created from inserted
            union all
            select id, false as created from ${deliveries}
             where forge = ${forge} and delivery_id = ${deliveryId} and not exists (select 1 from inserted)`,
      ),
    );
    const row = rows[0];
    if (row) return { status: row.created ? "created" : "duplicate", id: Number(row.id) };
    const [existing] = await run(() =>
      this.db
        .select({ id: deliveries.id })
        .from(deliveries)
        .where(and(eq(deliveries.forge, forge), eq(deliveries.deliveryId, deliveryId))),
    );
    if (!existing) throw new Error(`delivery ${forge}/${deliveryId} was neither inserted nor found`);
    return { status: "duplicate", id: existing.id };
  }

  /** Deliveries not handled yet, oldest first: what a restart picks up again. */
  pendingDeliveries(limit = 100): Promise<DeliveryRow[]> {
    return run(() =>
      this.db.select().from(deliveries).where(eq(deliveries.status, "pending")).orderBy(asc(deliveries.receivedAt), asc(deliveries.id)).limit(limit),
    );
  }

  getDelivery(id: number): Promise<DeliveryRow | undefined> {
    return run(async () => (await this.db.select().from(deliveries).where(eq(deliveries.id, id)))[0]);
  }

  /** Records how a delivery was handled; `detail` says why it was ignored or failed. */
  async markDelivery(id: number, status: Exclude<DeliveryStatus, "pending">, detail?: string | null): Promise<boolean> {
    const updated = await run(() =>
      this.db
        .update(deliveries)
        .set({ status, detail: detail ?? null, processedAt: sql`now()` })
        .where(eq(deliveries.id, id))
        .returning({ id: deliveries.id }),
    );
    return updated.length > 0;
  }
}
