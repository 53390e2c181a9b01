// Deliveries: a redelivery (same forge and delivery id) creates nothing and names the first one,
// also when both arrive at once.
import { describe, expect, it } from "vitest";
import { DeliveriesStore } from "../../src/store/deliveries";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { createRepository } from "./fixtures";

describe.each(DATABASE_KINDS)("deliveries (%s)", (kind) => {
  const test = useTestDatabase(kind);

  it("records a delivery once; a redelivery is a duplicate naming the first", async () => {
    const store = new DeliveriesStore(test.database);
    const repository = await createRepository(test.database);
    const delivery = { forge: "github", deliveryId: "d-1", event: "push", repositoryId: repository.id, payload: { ref: "refs/heads/main" } };
    const first = await store.recordDelivery(delivery);
    expect(first.status).toBe("created");
    const again = await store.recordDelivery({ ...delivery, payload: { different: true } });
    expect(again).toEqual({ status: "duplicate", id: first.id });
    expect((await store.getDelivery(first.id))?.payload).toEqual({ ref: "refs/heads/main" });
    // The same id from another forge is another delivery.
    expect((await store.recordDelivery({ ...delivery, forge: "gitlab" })).status).toBe("created");
  });

  it("creates exactly one row when the same delivery arrives many times at once", async () => {
    const other = await test.connect();
    const stores = [new DeliveriesStore(test.database), new DeliveriesStore(other)];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.recordDelivery({ forge: "github", deliveryId: "burst", event: "push", payload: { i } })),
    );
    expect(results.filter((result) => result.status === "created")).toHaveLength(1);
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
  });

  it("lists pending deliveries oldest first and records how each was handled", async () => {
    const store = new DeliveriesStore(test.database);
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push((await store.recordDelivery({ forge: "local", deliveryId: `p-${n}`, event: "push", payload: n })).id);
    const before = (await store.pendingDeliveries(1000)).map((delivery) => delivery.id);
    expect(before.filter((id) => ids.includes(id))).toEqual(ids);

    expect(await store.markDelivery(ids[0]!, "processed")).toBe(true);
    expect(await store.markDelivery(ids[1]!, "ignored", "no pipeline file")).toBe(true);
    expect(await store.markDelivery(999_999_999, "failed", "x")).toBe(false);
    const after = (await store.pendingDeliveries(1000)).map((delivery) => delivery.id);
    expect(after.filter((id) => ids.includes(id))).toEqual([ids[2]]);
    const ignored = await store.getDelivery(ids[1]!);
    expect(ignored).toMatchObject({ status: "ignored", detail: "no pipeline file" });
    expect(ignored?.processedAt).toBeInstanceOf(Date);
    expect((await store.pendingDeliveries(1)).length).toBe(1);
  });
});
