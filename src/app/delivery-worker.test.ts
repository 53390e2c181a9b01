import { describe, expect, it } from "vitest";
import { GustError } from "../errors";
import type { Forge, NormalizedEvent } from "../forges/forge";
import { DeliveryWorker } from "./delivery-worker";
import type { DeliveryProcessorDeps, StoredDelivery } from "./process-delivery";

const event: NormalizedEvent = {
  kind: "run",
  repo: { fullName: "acme/app", cloneUrl: "", defaultBranch: "main" },
  context: { event: "push", ref: "refs/heads/main", branch: "main", sha: "b".repeat(40) },
  fromFork: false,
  deliveryKind: "push",
};

function setup(listFailures: number) {
  let calls = 0;
  const forge: Forge = {
    kind: "github",
    readFile: async () => undefined,
    listPipelineFiles: async () => {
      calls++;
      if (calls <= listFailures) throw new GustError("GitHub answered 503", { fault: "infrastructure", retryable: true, code: "forge_unavailable" });
      return [{ path: ".gust.yml", text: "jobs:\n  a: {steps: [{run: echo}]}\n" }];
    },
    changedFiles: async () => undefined,
    reportJob: async () => ({ via: "memory" }),
    reportPipeline: async () => ({ via: "memory" }),
    resolveRef: async (_repo, ref) => ({ sha: "a".repeat(40), ref: `refs/heads/${ref}`, branch: ref }),
    defaultBranch: async () => "main",
  };
  const marks: Array<[number, string]> = [];
  const created: number[] = [];
  const errors: unknown[] = [];
  const stored = new Map<number, StoredDelivery>([1, 2, 3].map((id) => [id, { id, forge: "github", event: "push", payload: {}, repositoryId: null }]));
  const deps: DeliveryProcessorDeps = {
    normalize: () => event,
    findRepository: async () => ({ id: 1, forge: "github", fullName: "acme/app" }),
    getRepository: async () => undefined,
    forgeFor: async () => forge,
    createPipeline: async (input) => {
      created.push(input.deliveryId);
      return { id: created.length, number: created.length };
    },
    markDelivery: async (id, status) => void marks.push([id, status]),
    warn: () => undefined,
  };
  const loads: number[] = [];
  const worker = new DeliveryWorker({
    deps,
    load: async (id) => (loads.push(id), stored.get(id)),
    pending: async () => [...stored.values()].filter((d) => !marks.some(([id]) => id === d.id)),
    retryDelayMs: 5,
    onError: (error) => errors.push(error),
  });
  return { worker, marks, created, errors, loads, calls: () => calls };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

describe("DeliveryWorker", () => {
  it("processes each enqueued delivery once, even when enqueued twice", async () => {
    const { worker, marks, created } = setup(0);
    worker.enqueue(1);
    worker.enqueue(1);
    worker.enqueue(2);
    await until(() => marks.length === 2);
    await worker.stop();
    expect(created.sort()).toEqual([1, 2]);
    expect(marks.map(([, status]) => status)).toEqual(["processed", "processed"]);
  });

  it("retries a retryable failure with backoff until it goes through", async () => {
    const { worker, marks, errors, calls } = setup(2);
    worker.enqueue(3);
    await until(() => marks.length === 1);
    await worker.stop();
    expect(calls()).toBe(3);
    expect(errors).toHaveLength(2);
    expect(marks).toEqual([[3, "processed"]]);
  });

  it("processes a delivery handed over with its row without reading it again, also when retrying", async () => {
    const { worker, marks, loads, created } = setup(1);
    worker.enqueue(7, { id: 7, forge: "github", event: "push", payload: {}, repositoryId: null });
    worker.enqueue(1);
    await until(() => marks.length === 2);
    await worker.stop();
    expect(created.sort()).toEqual([1, 7]);
    expect(loads).toEqual([1]);
  });

  it("resumes what is pending at start, and takes nothing after stop", async () => {
    const { worker, marks, loads } = setup(0);
    expect(await worker.resume()).toBe(3);
    await until(() => marks.length === 3);
    expect(loads).toEqual([]);
    await worker.stop();
    worker.enqueue(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(marks).toHaveLength(3);
  });
});
