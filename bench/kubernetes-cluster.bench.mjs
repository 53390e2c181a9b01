// The Kubernetes executor on the real test cluster (test/cluster/up.sh; skipped without
// GUST_TEST_KUBECONFIG): the hand-off between two steps inside a pod (one step's end to the next
// one's start, both on the step entrypoint's clock) over a job of 20 no-op steps, and the time from
// a job handed to the executor (as the dispatcher does once it leased it) to its first step running
// — against a baseline measured in the same run: a bare pod of one busybox container, created
// straight through the API, from the create call to its command running.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { fmt, summarize } from "./lib/stats.mjs";
import { bundleEntries } from "./lib/bundle.mjs";

const RUNS = Number(process.env.BENCH_K8S_RUNS ?? 5);
const STEPS = 20;
const TARGET_HANDOFF_MS = 100;

if (!process.env.GUST_TEST_KUBECONFIG) {
  console.log("kubernetes on the real cluster: skipped (no GUST_TEST_KUBECONFIG; bring the cluster up with test/cluster/up.sh and source its env file)");
  process.exit(0);
}

const LIB_ENTRY = `
export { createClusterHarness } from "./test/executors/kubernetes/cluster-harness";
export { CoreV1Api } from "@kubernetes/client-node";
`;

const bundle = await bundleEntries("kubernetes-cluster", { lib: LIB_ENTRY });
try {
  const { createClusterHarness } = await import(bundle.files.lib);
  const harness = await createClusterHarness();
  const handoffs = [];
  const toFirstStep = [];
  const baseline = [];
  // The bare pod's command calls this server on the host: its arrival is the command running.
  const arrivals = new Map();
  const server = createServer((request, response) => {
    arrivals.set(request.url, Date.now());
    response.end("ok\n");
  });
  await new Promise((resolve) => server.listen(0, "0.0.0.0", resolve));
  const callback = `http://${process.env.GUST_TEST_HOST_IP ?? "10.88.0.1"}:${server.address().port}`;
  try {
    for (let run = 0; run < RUNS; run++) {
      // A bare pod: create → its command's own clock.
      const name = `bench-bare-${randomBytes(3).toString("hex")}`;
      const created = Date.now();
      await harness.core.createNamespacedPod({
        namespace: harness.namespace,
        body: {
          metadata: { name },
          spec: { restartPolicy: "Never", automountServiceAccountToken: false, containers: [{ name: "c", image: process.env.GUST_TEST_SHELL_IMAGE ?? "gust-test/shell:1", command: ["wget", "-q", "-O", "-", `${callback}/${name}`] }] },
        },
      });
      for (;;) {
        const pod = await harness.core.readNamespacedPod({ name, namespace: harness.namespace });
        if (pod.status?.containerStatuses?.[0]?.state?.terminated) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const printed = arrivals.get(`/${name}`);
      if (printed === undefined) throw new Error("the bare pod did not call back");
      baseline.push(printed - created);
      await harness.core.deleteNamespacedPod({ name, namespace: harness.namespace, gracePeriodSeconds: 0 });

      // A job of 20 no-op steps through the executor. The kubelet starts a pod's containers one after
      // another; the first step waits until all are up, so the hand-offs measured are the
      // entrypoint's alone (container start-up is in the first-step figure).
      const job = harness.makeJob({ steps: Array.from({ length: STEPS }, (_, i) => ({ script: i === 0 ? "sleep 5" : "true" })) });
      const finished = [];
      const handedAt = Date.now();
      const handle = await harness.executor.start(job, (event) => {
        if (event.type === "step-finished") finished.push(event);
      });
      const outcome = await handle.wait();
      await handle.cleanup();
      if (outcome.status !== "success") throw new Error(`the bench job ended ${outcome.status}: ${outcome.error?.message ?? ""}`);
      // Each step's start on the entrypoint's clock: its end minus its duration.
      const started = finished.map((event) => event.at - event.durationMs);
      toFirstStep.push(started[0] - handedAt);
      for (let i = 2; i < finished.length; i++) handoffs.push(started[i] - finished[i - 1].at);
    }
  } finally {
    server.close();
    await harness.teardown();
  }
  const h = summarize(handoffs);
  const first = summarize(toFirstStep);
  const bare = summarize(baseline);
  console.log(`kubernetes on the real cluster: ${RUNS} jobs of ${STEPS} no-op steps, one pod each`);
  console.log(`  hand-off between steps in a pod: p50 ${fmt(h.p50)} ms, p99 ${fmt(h.p99)} ms, max ${fmt(h.max)} ms (target < ${TARGET_HANDOFF_MS} ms: ${h.p50 < TARGET_HANDOFF_MS ? "met" : "missed"})`);
  console.log(`  job handed to the executor → first step running: p50 ${fmt(first.p50)} ms (baseline, a bare pod created → its command running: p50 ${fmt(bare.p50)} ms; ratio ${fmt(first.p50 / bare.p50)}×)`);
} finally {
  bundle.remove();
}
