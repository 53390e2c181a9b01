// What the contract suite does not cover, on the real cluster: artifacts handed between jobs' pods,
// a service sidecar that starts before the first step and stops after the last, an image that does
// not exist and a pod no node can take (executor errors, not step failures), and a restart of Gust
// while a pod runs (the run is adopted; its log goes on with no line lost or repeated).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobRun } from "../../../src/executors/executor";
import { podNameFor } from "../../../src/executors/kubernetes/pod-names";
import { JobRecorder } from "../../contract/job-recorder";
import { cluster, createClusterHarness, noteSkippedWithoutCluster, type ClusterHarness } from "./cluster-harness";

noteSkippedWithoutCluster("the Kubernetes executor's cluster scenarios");

describe.skipIf(!cluster.kubeconfig)("kubernetes executor on the real cluster", () => {
  let harness: ClusterHarness;

  beforeAll(async () => {
    harness = await createClusterHarness();
  }, 120_000);
  afterAll(async () => {
    await harness?.teardown();
  }, 120_000);

  async function run(job: JobRun, executor = harness.executor): Promise<{ recorder: JobRecorder; outcome: Awaited<ReturnType<Awaited<ReturnType<typeof executor.start>>["wait"]>> }> {
    const recorder = new JobRecorder();
    const handle = await executor.start(job, recorder.listener);
    const outcome = await handle.wait();
    await handle.cleanup();
    return { recorder, outcome };
  }

  it("hands artifacts from one job's pod to the next job's pod through the runner API", async () => {
    const pipelineRunId = `pipeline-artifacts-${Date.now()}`;
    const build = harness.makeJob({
      pipelineRunId,
      jobKey: "build",
      artifacts: { paths: ["dist/**"] },
      steps: [{ script: "mkdir -p dist/sub && echo built-by-pod > dist/app.txt && echo nested > dist/sub/more.txt && echo not-published > other.txt" }],
    });
    const built = await run(build);
    expect(built.outcome.status).toBe("success");
    const test = harness.makeJob({ pipelineRunId, jobKey: "test", artifactsFrom: ["build"], steps: [{ script: "cat dist/app.txt dist/sub/more.txt; test ! -e other.txt && echo clean" }] });
    const tested = await run(test);
    expect(tested.outcome.status).toBe("success");
    expect(tested.recorder.lines(0)).toEqual(["built-by-pod", "nested", "clean"]);
  }, 180_000);

  it("starts a service before the first step and stops it after the last, so the pod ends", async () => {
    const job = harness.makeJob({
      services: [{ name: "web", image: cluster.serviceImage, env: {}, ports: [8080] }],
      steps: [{ script: "wget -q -O - http://127.0.0.1:8080/ " }, { script: "echo last" }],
    });
    const { outcome, recorder } = await run(job);
    expect(outcome.status).toBe("success");
    expect(recorder.lines(0)).toEqual(["service is up"]);
    expect(recorder.lines(1)).toEqual(["last"]);
  }, 180_000);

  it("turns an image that does not exist into an executor error, not a step failure", async () => {
    const job = harness.makeJob({ steps: [{ script: "echo never", image: "gust-test/does-not-exist:404" }] });
    const { outcome, recorder } = await run(job);
    expect(outcome.status).toBe("error");
    expect(outcome.error).toMatchObject({ code: "image_pull_failed" });
    expect(outcome.error?.message).toContain("gust-test/does-not-exist:404");
    expect(recorder.stepFinished(0).status).toBe("skipped");
  }, 180_000);

  it("turns a pod no node can take into an executor error within the configured time", async () => {
    const job = harness.makeJob({ resources: { cpu: "500", memory: "1Gi" }, steps: [{ script: "echo never" }] });
    const { outcome } = await run(job);
    expect(outcome.status).toBe("error");
    expect(outcome.error).toMatchObject({ code: "unschedulable" });
    expect(outcome.error?.message).toMatch(/Insufficient cpu/);
  }, 180_000);

  it("after a restart adopts the running pod and resumes its log with no line lost or repeated", async () => {
    const script = "i=0; while [ $i -lt 60 ]; do echo line-$i; i=$((i+1)); sleep 0.05; done";
    const job = harness.makeJob({ steps: [{ script }, { script: "echo after" }] });
    const first = new JobRecorder();
    const before = harness.newExecutor();
    await before.start(job, first.listener);
    await first.waitForLine("line-20");
    // Gust stops: the pod goes on.
    await before.close();
    const stored = first.logs().filter((event) => event.step === 0);
    const last = stored[stored.length - 1]!;
    const lastAt = last.at;
    const countAtLast = stored.filter((event) => event.at === lastAt).length;

    const after = harness.newExecutor();
    const second = new JobRecorder();
    const pod = await harness.client.readPod(harness.namespace, podNameFor(job.runId));
    expect(pod?.metadata?.deletionTimestamp).toBeUndefined();
    const handle = await after.start({ ...job, resume: { finishedSteps: [], logCursors: [{ step: 0, lastAt, countAtLast }] } }, second.listener);
    const outcome = await handle.wait();
    await handle.cleanup();
    expect(outcome.status).toBe("success");
    const lines = [...stored.map((event) => event.text), ...second.lines(0)];
    expect(lines).toEqual(Array.from({ length: 60 }, (_, i) => `line-${i}`));
    expect(second.lines(1)).toEqual(["after"]);
  }, 180_000);
});
