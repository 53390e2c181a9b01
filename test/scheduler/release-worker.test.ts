// The release worker without a database: claims on start and on wake-ups, routes commands and
// cancels to the release they concern, stops and hands leases on at shutdown, and lets a release
// whose run failed be claimed again.
import { describe, expect, it } from "vitest";
import { ReleaseWorker, type ReleaseControl, type ReleaseRecords } from "../../src/scheduler/release-worker";

interface Claimed {
  releaseId: number;
  jobId: number;
}

class FakeRecords implements ReleaseRecords<Claimed> {
  queue: Claimed[] = [];
  readonly released: number[] = [];
  cancelRequested: number[] = [];
  claims = 0;

  async claim(options: { limit: number }): Promise<Claimed[]> {
    this.claims += 1;
    return this.queue.splice(0, options.limit);
  }

  async heartbeat(_owner: string, jobIds: number[]) {
    return { lost: [], cancelRequested: this.cancelRequested.filter((id) => jobIds.includes(id)) };
  }

  async release(jobId: number): Promise<void> {
    this.released.push(jobId);
  }
}

function harness(run: (claimed: Claimed, control: ReleaseControl) => Promise<void>) {
  const records = new FakeRecords();
  let wake: ((hint: { releaseId?: number; cancelJobIds?: number[] }) => void) | undefined;
  const errors: string[] = [];
  const worker = new ReleaseWorker<Claimed>({
    owner: "replica-a",
    records,
    run,
    wakeups: {
      subscribe: async (handler) => {
        wake = handler;
        return async () => {
          wake = undefined;
        };
      },
    },
    leaseMs: 60_000,
    heartbeatMs: 20,
    soleReplica: false,
    onError: (_error, context) => errors.push(context),
  });
  return { records, worker, wake: (hint: { releaseId?: number; cancelJobIds?: number[] }) => wake?.(hint), errors };
}

const eventually = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
};

describe("release worker", () => {
  it("runs what it claims, and routes a command to the release it names", async () => {
    const pokes: number[] = [];
    const finish = new Map<number, () => void>();
    const { records, worker, wake } = harness(
      (claimed, control) =>
        new Promise<void>((resolve) => {
          control.onPoke(() => pokes.push(claimed.releaseId));
          finish.set(claimed.releaseId, resolve);
          control.onStop(resolve);
        }),
    );
    records.queue.push({ releaseId: 1, jobId: 11 }, { releaseId: 2, jobId: 12 });
    await worker.start();
    expect(worker.runningJobIds().sort()).toEqual([11, 12]);
    wake({ releaseId: 2 });
    expect(pokes).toEqual([2]);
    // A queued job wakes a claim; an ended release frees room and claims again.
    records.queue.push({ releaseId: 3, jobId: 13 });
    wake({});
    await eventually(() => worker.runningJobIds().includes(13));
    finish.get(1)!();
    await eventually(() => !worker.runningJobIds().includes(11));
    await worker.stop();
    // Stopped releases hand their lease on; the ended one had finished its job itself.
    expect(records.released.sort()).toEqual([12, 13]);
  });

  it("tells a running release its pipeline was cancelled, from a notification or a heartbeat", async () => {
    const seen: Array<string | undefined> = [];
    const { records, worker, wake } = harness(
      (_claimed, control) =>
        new Promise<void>((resolve) => {
          control.onPoke(() => seen.push(control.cancelled()));
          control.onStop(resolve);
        }),
    );
    records.queue.push({ releaseId: 1, jobId: 11 }, { releaseId: 2, jobId: 12 });
    await worker.start();
    wake({ cancelJobIds: [11] });
    expect(seen).toEqual(["the pipeline was cancelled"]);
    records.cancelRequested = [12];
    await eventually(() => seen.length === 2);
    await worker.stop();
  });

  it("lets a release whose run failed go at once, to be claimed again", async () => {
    let attempts = 0;
    const { records, worker, errors } = harness(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error("provider exploded");
    });
    records.queue.push({ releaseId: 1, jobId: 11 });
    await worker.start();
    await eventually(() => records.released.includes(11));
    expect(errors[0]).toMatch(/release 1 stopped on an error/);
    await worker.stop();
  });
});
