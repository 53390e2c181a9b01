// The Kubernetes executor at scale, against the loopback API stand-in (test/stand-ins): N jobs
// (default 2,000; BENCH_K8S_JOBS) started at once in a child process that holds nothing else, while
// the stand-in in this process moves their pods through their phases (each job: prepare, two steps
// that log and sleep, so all N are running together). Reported: API requests per job by kind (the
// target is a constant number: nothing polls), the child's peak memory and its extrapolation to
// 10,000 concurrent pods (target < 1 GiB), jobs started per second — against a baseline measured in
// the same run: the same N pods created straight through CoreV1Api by the same kind of child
// process, with no executor, no watch and no log follow.
import { fork } from "node:child_process";
import { fmt } from "./lib/stats.mjs";
import { bundleEntries } from "./lib/bundle.mjs";

const JOBS = Number(process.env.BENCH_K8S_JOBS ?? 2000);
const TARGET_PODS = 10_000;
const GIB = 1024 ** 3;

const LIB_ENTRY = `export { startKubernetesStandIn } from "./test/stand-ins/kubernetes-api";`;

// The child gets the kubeconfig and the mode over IPC; it reports memory samples and timings.
const CHILD_ENTRY = `
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { createKubeClient } from "./src/executors/kubernetes/kube-client";
import { KubernetesExecutor } from "./src/executors/kubernetes/kubernetes-executor";
import { DEFAULT_POD_OPTIONS } from "./src/executors/kubernetes/pod-options";
import { buildJobPod } from "./src/executors/kubernetes/pod-spec";
import { podSourceFor } from "./src/executors/kubernetes/job-source";

function job(i) {
  return {
    runId: "bench-" + i, pipelineRunId: "bench", pipelineName: "bench", jobKey: "job-" + i, jobName: "job " + i, attempt: 1,
    env: {}, secrets: {}, services: [], artifactsFrom: [],
    commit: { sha: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main", branch: "main" },
    workspace: { kind: "git", repository: "https://git.example.com/acme/app.git", commit: "0123456789abcdef0123456789abcdef01234567" },
    steps: [0, 1].map((index) => ({ index, name: "step " + index, script: "echo step-" + index + "\\nsleep 3\\necho done-" + index, env: {}, continueOnError: false, when: { onSuccess: true, onFailure: false } })),
  };
}
const pod = { ...DEFAULT_POD_OPTIONS, namespace: "default", defaultImage: "busybox:1.36", helperImage: "gust-helper:bench" };

let peak = 0;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const sampler = setInterval(sample, 50);

process.on("message", async ({ kubeconfig, mode, jobs }) => {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  if (global.gc) global.gc();
  const baseRss = process.memoryUsage().rss;
  peak = baseRss;
  const started = performance.now();
  if (mode === "raw") {
    const core = config.makeApiClient(CoreV1Api);
    await Promise.all(Array.from({ length: jobs }, async (_, i) => {
      const built = buildJobPod({ job: { ...job(i), runId: "raw-" + i }, options: pod, runner: { url: "http://127.0.0.1:9", token: "t" }, source: podSourceFor(job(i).workspace, job(i).commit) });
      await core.createNamespacedSecret({ namespace: "default", body: built.secret });
      await core.createNamespacedPod({ namespace: "default", body: built.pod });
    }));
    const createdMs = performance.now() - started;
    sample();
    process.send({ baseRss, peak, createdMs, finishedMs: createdMs, outcomes: {} });
    return;
  }
  const executor = new KubernetesExecutor({
    client: createKubeClient(config), pod,
    runnerAccess: () => ({ url: "http://127.0.0.1:9", token: "t" }),
    imagePullTimeoutMs: 60000, unschedulableTimeoutMs: 60000, cancelGraceSeconds: 1, keepFailedPodsMs: 0, janitorIntervalMs: 0,
    onError: () => {},
  });
  const handles = await Promise.all(Array.from({ length: jobs }, (_, i) => executor.start(job(i), () => {})));
  const createdMs = performance.now() - started;
  const outcomes = {};
  for (const outcome of await Promise.all(handles.map((handle) => handle.wait()))) outcomes[outcome.status] = (outcomes[outcome.status] ?? 0) + 1;
  const finishedMs = performance.now() - started;
  await Promise.all(handles.map((handle) => handle.cleanup()));
  sample();
  await executor.close();
  process.send({ baseRss, peak, createdMs, finishedMs, outcomes });
});
`;

async function measure(files, standIn, mode) {
  standIn.resetRequests();
  const child = fork(files.child, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--expose-gc"] });
  const result = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the ${mode} child exited with ${code}`)));
    child.send({ kubeconfig: standIn.kubeconfigYaml, mode, jobs: JOBS });
  });
  child.kill();
  return { ...result, requests: standIn.requests() };
}

const bundle = await bundleEntries("kubernetes-scale", { lib: LIB_ENTRY, child: CHILD_ENTRY });
try {
  const { startKubernetesStandIn } = await import(bundle.files.lib);
  console.log(`kubernetes executor at scale: ${JOBS} jobs at once against the API stand-in (two steps of 3 s each)`);
  const rawStandIn = await startKubernetesStandIn({ historySize: 50_000, driver: { run: false } });
  const raw = await measure(bundle.files, rawStandIn, "raw");
  await rawStandIn.close();

  const standIn = await startKubernetesStandIn({ historySize: 50_000, driver: { transitionMs: 20 } });
  const gust = await measure(bundle.files, standIn, "executor");
  await standIn.close();

  const perJob = [...gust.requests.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, count]) => `${kind} ${fmt(count / JOBS)}`);
  const total = [...gust.requests.values()].reduce((sum, n) => sum + n, 0);
  const perPodBytes = (gust.peak - gust.baseRss) / JOBS;
  const extrapolated = gust.baseRss + perPodBytes * TARGET_PODS;
  const rawRate = JOBS / (raw.createdMs / 1000);
  const gustRate = JOBS / (gust.createdMs / 1000);
  console.log(`  outcomes: ${JSON.stringify(gust.outcomes)}; all finished after ${fmt(gust.finishedMs / 1000)} s`);
  console.log(`  API requests per job: ${fmt(total / JOBS)} in all (${perJob.join(", ")}); target: constant, no polling`);
  console.log(`  jobs started per second: ${fmt(gustRate)} (baseline, pods created straight through CoreV1Api: ${fmt(rawRate)}/s; ratio ${fmt(gustRate / rawRate)}×)`);
  console.log(`  peak memory of the executor process: ${fmt(gust.peak / 1024 / 1024)} MiB (at start ${fmt(gust.baseRss / 1024 / 1024)} MiB; baseline child ${fmt(raw.peak / 1024 / 1024)} MiB)`);
  console.log(`  per running pod: ${fmt(perPodBytes / 1024)} KiB → ${fmt(extrapolated / GIB)} GiB for ${TARGET_PODS} pods (target < 1 GiB: ${extrapolated < GIB ? "met" : "missed"})`);
} finally {
  bundle.remove();
}
