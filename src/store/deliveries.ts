// Webhook deliveries: stored before the webhook is answered, so the work after the 202 survives a
// crash; the (forge, delivery id) unique key makes a redelivery a no-op that names the first one.
import { asc, eq, sql } from "drizzle-orm";
import type { Database, Db } from "./database";
import { DeliveryBatcher, type NewDelivery, type RecordResult } from "./delivery-batcher";
import { deliveries, type DeliveryRow } from "./schema";
import { rowsOf, run } from "./transaction";

export type { NewDelivery, RecordResult } from "./delivery-batcher";

export type DeliveryStatus = "pending" | "processed" | "ignored" | "failed";

export class DeliveriesStore {
  private readonly db: Db;
  private readonly batcher: DeliveryBatcher;

  constructor(database: Pick<Database, "db">) {
    this.db = database.db;
    this.batcher = new DeliveryBatcher((rows) => this.write(rows));
  }

  /**
   * Resolves once the delivery is committed: `created`, or `duplicate` naming the row stored first.
   * Deliveries recorded in the same turn of the event loop, or while a write is in flight, are
   * stored together in one statement (DeliveryBatcher).
   */
  recordDelivery(delivery: NewDelivery): Promise<RecordResult> {
    return this.batcher.record(delivery);
  }

  /** One statement for all the rows; a second one reads the ids of those that were there already. */
  private async write(rows: NewDelivery[]): Promise<Array<{ id: number; created: boolean }>> {
    const values = rows.map(
      (row) => sql`(${row.forge}, ${row.deliveryId}, ${row.event}, ${row.repositoryId ?? null}, ${JSON.stringify(row.payload ?? null)}::jsonb)`,
    );
    const inserted = await run(() =>
      rowsOf<{ id: number | string; forge: string; delivery_id: string }>(
        this.db,
        sql`insert into ${deliveries} (forge, delivery_id, event, repository_id, payload) values ${sql.join(values, sql`, `)}
            on conflict (forge, delivery_id) do nothing returning id, forge, delivery_id`,
      ),
    );
    const key = (forge: string, deliveryId: string): string => `${forge}\0${deliveryId}`;
    const created = new Map(inserted.map((row) => [key(row.forge, row.delivery_id), Number(row.id)]));
    const missing = rows.filter((row) => !created.has(key(row.forge, row.deliveryId)));
    const existing = new Map<string, number>();
    if (missing.length > 0) {
      // A conflicting row committed by another connection while the insert ran is seen here: this
      // is a new statement, with a new snapshot.
      const keys = missing.map((row) => sql`(${row.forge}, ${row.deliveryId})`);
      const found = await run(() =>
        rowsOf<{ id: number | string; forge: string; delivery_id: string }>(
          this.db,
          sql`select id, forge, delivery_id from ${deliveries} where (forge, delivery_id) in (${sql.join(keys, sql`, `)})`,
        ),
      );
      for (const row of found) existing.set(key(row.forge, row.delivery_id), Number(row.id));
    }
    return rows.map((row) => {
      const id = created.get(key(row.forge, row.deliveryId));
      if (id !== undefined) return { id, created: true };
      const first = existing.get(key(row.forge, row.deliveryId));
      if (first === undefined) throw new Error(`delivery ${row.forge}/${row.deliveryId} was neither inserted nor found`);
      return { id: first, created: false };
    });
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
