// The Kubernetes executor against the loopback API stand-in, for what one small real node cannot
// show: watches that expire (410 Gone) or drop, log connections cut mid-line, throttling and
// server errors, and the number of API requests a job costs (constant: nothing polls).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobRun } from "../../../src/executors/executor";
import { createKubeClient } from "../../../src/executors/kubernetes/kube-client";
import { KubernetesExecutor } from "../../../src/executors/kubernetes/kubernetes-executor";
import { DEFAULT_POD_OPTIONS } from "../../../src/executors/kubernetes/pod-options";
import { buildJob, type JobPartial } from "../../contract/job-defaults";
import { JobRecorder } from "../../contract/job-recorder";
import { startKubernetesStandIn, type KubernetesStandIn } from "../../stand-ins/kubernetes-api";

describe("kubernetes executor against the API stand-in", () => {
  let standIn: KubernetesStandIn;
  let executor: KubernetesExecutor;
  const kinds = new Map<string, number>();

  beforeAll(async () => {
    standIn = await startKubernetesStandIn({ driver: { transitionMs: 5 } });
    executor = newExecutor();
  });
  afterAll(async () => {
    await executor?.close();
    await standIn?.close();
  });

  function newExecutor(): KubernetesExecutor {
    return new KubernetesExecutor({
      client: createKubeClient(standIn.kubeConfig),
      pod: { ...DEFAULT_POD_OPTIONS, namespace: "default", defaultImage: "busybox:1.36", helperImage: "gust-helper:test" },
      runnerAccess: () => ({ url: "http://127.0.0.1:9", token: "runner-token" }),
      imagePullTimeoutMs: 500,
      unschedulableTimeoutMs: 500,
      cancelGraceSeconds: 1,
      keepFailedPodsMs: 0,
      janitorIntervalMs: 0,
      onError: () => {},
      onRequest: (kind) => kinds.set(kind, (kinds.get(kind) ?? 0) + 1),
    });
  }

  function job(partial: JobPartial): JobRun {
    return buildJob({ runId: `run-${randomBytes(4).toString("hex")}`, ...partial }, { workspace: { kind: "git", repository: "https://git.example.com/acme/app.git", commit: "0123456789abcdef0123456789abcdef01234567" } });
  }

  async function run(spec: JobRun, during?: (recorder: JobRecorder) => Promise<void>) {
    const recorder = new JobRecorder();
    const handle = await executor.start(spec, recorder.listener);
    await during?.(recorder);
    const outcome = await handle.wait();
    await handle.cleanup();
    recorder.checkOrder(spec);
    return { recorder, outcome };
  }

  it("runs a job's steps in order, with logs, exit codes and skips", async () => {
    const { recorder, outcome } = await run(job({ steps: [{ script: "echo one\necho two" }, { script: "echo failing\nexit 3" }, { script: "echo never" }] }));
    expect(outcome).toMatchObject({ status: "failure", failedStep: 1, exitCode: 3 });
    expect(recorder.lines(0)).toEqual(["one", "two"]);
    expect(recorder.lines(1)).toEqual(["failing"]);
    expect(recorder.stepFinished(2).status).toBe("skipped");
  });

  it("goes on through a dropped watch and a watch whose resourceVersion expired (410 → list again)", async () => {
    const spec = job({ steps: [{ script: "echo a\nsleep 0.3\necho b" }, { script: "sleep 0.3\necho c" }] });
    const { recorder, outcome } = await run(spec, async (events) => {
      await events.waitForLine("a");
      expect(standIn.faults.dropWatches()).toBeGreaterThan(0);
      standIn.faults.compact();
      standIn.faults.dropWatches();
    });
    expect(outcome.status).toBe("success");
    expect([...recorder.lines(0), ...recorder.lines(1)]).toEqual(["a", "b", "c"]);
  });

  it("loses and repeats no line when log connections are cut mid-line", async () => {
    const script = Array.from({ length: 40 }, (_, i) => `echo line-${i}${i % 10 === 9 ? "\nsleep 0.1" : ""}`).join("\n");
    const { recorder, outcome } = await run(job({ steps: [{ script }] }), async (events) => {
      await events.waitForLine("line-9");
      standIn.faults.cutLogStreams();
      await events.waitForLine("line-19");
      standIn.faults.dropLogStreams();
    });
    expect(outcome.status).toBe("success");
    expect(recorder.lines(0)).toEqual(Array.from({ length: 40 }, (_, i) => `line-${i}`));
  });

  it("retries creation through throttling (429 with Retry-After) and server errors", async () => {
    standIn.faults.failNext(2, { status: 429, retryAfterSeconds: 1, verb: "create", resource: "pods" });
    standIn.faults.failNext(1, { status: 503, verb: "create", resource: "secrets" });
    const { outcome } = await run(job({ steps: [{ script: "echo ok" }] }));
    expect(outcome.status).toBe("success");
  });

  it("makes an image that does not exist and an unschedulable pod executor errors, not step failures", async () => {
    const missing = await run(job({ steps: [{ script: "echo never", image: "registry.example.com/does-not-exist:1" }] }));
    expect(missing.outcome).toMatchObject({ status: "error", error: { code: "image_pull_failed" } });
    const huge = await run(job({ resources: { cpu: "64", memory: "1Gi" }, steps: [{ script: "echo never" }] }));
    expect(huge.outcome).toMatchObject({ status: "error", error: { code: "unschedulable" } });
  });

  it("cancels by deleting the pod: the running step is cancelled, the rest skipped", async () => {
    const spec = job({ steps: [{ script: "echo started\nsleep 30" }, { script: "echo never" }] });
    const recorder = new JobRecorder();
    const handle = await executor.start(spec, recorder.listener);
    await recorder.waitForLine("started");
    await handle.cancel("test");
    const outcome = await handle.wait();
    expect(outcome.status).toBe("cancelled");
    expect(recorder.stepFinished(0).status).toBe("cancelled");
    expect(recorder.stepFinished(1).status).toBe("skipped");
    await handle.cleanup();
  });

  it("costs a fixed number of API requests per job, however long it runs: nothing polls", async () => {
    const count = async (sleepSeconds: number): Promise<Map<string, number>> => {
      standIn.resetRequests();
      await run(job({ steps: Array.from({ length: 3 }, (_, i) => ({ script: `echo step-${i}\nsleep ${sleepSeconds}` })) }));
      return standIn.requests();
    };
    await count(0.01); // the executor's one list and watch, before measuring
    const quick = await count(0.05);
    const slow = await count(0.6);
    expect(slow).toEqual(quick);
    // One Secret, one Pod, the Secret's owner; a log follow per container; the deletes at the end.
    expect(quick.get("create pods")).toBe(1);
    expect(quick.get("create secrets")).toBe(1);
    expect(quick.get("get pods") ?? 0).toBe(0);
    expect(quick.get("list pods") ?? 0).toBe(0);
    const total = [...quick.values()].reduce((sum, value) => sum + value, 0);
    expect(total).toBeLessThanOrEqual(20);
  });
});
