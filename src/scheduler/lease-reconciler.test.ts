import { describe, expect, it } from "vitest";
import { LeaseReconciler, type LeaseRecords, type StaleLease } from "./lease-reconciler";

function fakes(leases: StaleLease[]) {
  const calls: string[] = [];
  const asked: Array<{ exceptOwner: string; allForeign: boolean }> = [];
  const records: LeaseRecords = {
    async stale(options) {
      asked.push(options);
      return leases.splice(0);
    },
    async requeue(jobId, owner) {
      calls.push(`requeue ${jobId} from ${owner}`);
      return "requeued";
    },
  };
  const executor = {
    async reap(runId: string) {
      calls.push(`reap ${runId}`);
      if (runId === "broken-1") throw new Error("cluster unreachable");
      return runId.endsWith("-1") ? ("stopped" as const) : ("gone" as const);
    },
  };
  return { calls, asked, records, executor };
}

describe("LeaseReconciler", () => {
  it("reaps each stale run before queueing its job again, and takes all foreign leases at start when sole", async () => {
    const { calls, asked, records, executor } = fakes([
      { jobId: 7, runId: "7-1", leaseOwner: "dead" },
      { jobId: 8, runId: "8-2", leaseOwner: "dead" },
      { jobId: 9, runId: null, leaseOwner: "dead" },
    ]);
    const results: string[] = [];
    const reconciler = new LeaseReconciler({
      owner: "me",
      records,
      executor,
      intervalMs: 60_000,
      soleReplica: true,
      onReconciled: (lease, result) => results.push(`${lease.jobId}:${result.reaped}:${result.queue}`),
      onError: (error) => {
        throw error;
      },
    });
    await reconciler.start();
    await reconciler.stop();
    expect(asked).toEqual([{ exceptOwner: "me", allForeign: true }]);
    expect(calls).toEqual(["reap 7-1", "requeue 7 from dead", "reap 8-2", "requeue 8 from dead", "requeue 9 from dead"]);
    expect(results).toEqual(["7:stopped:requeued", "8:gone:requeued", "9:gone:requeued"]);
  });

  it("leaves a job running when its run could not be reaped, and goes on with the others", async () => {
    const { calls, records, executor } = fakes([
      { jobId: 1, runId: "broken-1", leaseOwner: "dead" },
      { jobId: 2, runId: "2-1", leaseOwner: "dead" },
    ]);
    const errors: string[] = [];
    const reconciler = new LeaseReconciler({ owner: "me", records, executor, intervalMs: 60_000, soleReplica: false, onError: (_error, context) => errors.push(context) });
    await reconciler.reconcileNow();
    expect(calls).toEqual(["reap broken-1", "reap 2-1", "requeue 2 from dead"]);
    expect(errors).toEqual(["reconciling job 1"]);
  });

  it("adopts a run that outlived its owner instead of reaping it, and reaps the ones it cannot adopt", async () => {
    const { calls, records, executor } = fakes([
      { jobId: 3, runId: "3-1", leaseOwner: "dead" },
      { jobId: 4, runId: "4-1", leaseOwner: "dead" },
      { jobId: 5, runId: null, leaseOwner: "dead" },
    ]);
    const adopted: number[] = [];
    const reconciler = new LeaseReconciler({
      owner: "me",
      records,
      executor,
      intervalMs: 60_000,
      soleReplica: false,
      adopt: async (lease) => {
        calls.push(`adopt? ${lease.runId} of ${lease.leaseOwner}`);
        return lease.runId === "3-1";
      },
      onAdopted: (lease) => adopted.push(lease.jobId),
      onError: (error) => {
        throw error;
      },
    });
    await reconciler.reconcileNow();
    expect(calls).toEqual(["adopt? 3-1 of dead", "adopt? 4-1 of dead", "reap 4-1", "requeue 4 from dead", "requeue 5 from dead"]);
    expect(adopted).toEqual([3]);
  });
});
