// The step entrypoint (runner-images/entrypoint/gust-step) on the host: each test starts one process
// per step on a shared state directory, as the step containers of a pod start at once, and checks
// what the pod protocol says they do. Run with busybox sh (as in pods) and with the host's /bin/sh.
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { parseStepMessage } from "../../src/executors/kubernetes/pod-observation";
import { fileAppears, hostBusybox, SimulatedPod, type PodStep, type StepEnd } from "./simulated-pod";

const busybox = hostBusybox();

const MESSAGE = /^status=(success|failure|timed-out|skipped|cancelled) exit=(\d+|-) started=(\d{13}|-) finished=\d{13}( reason=[^\n]+)?\n$/;

/** The parsed status line, after checking that the status file and the termination log agree on it. */
function report(end: StepEnd) {
  expect(end.message).toMatch(MESSAGE);
  expect(end.status).toBe(end.message);
  const parsed = parseStepMessage(end.message!);
  expect(parsed).toBeDefined();
  return parsed!;
}

function summary(ends: StepEnd[]) {
  return ends.map((end) => {
    const { status, exitCode, reason } = report(end);
    return { status, exit: exitCode, container: end.exitCode, ...(reason ? { reason } : {}) };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

const SHELLS: Array<[string, string[]]> = [
  ["busybox sh", [busybox, "sh"]],
  ["/bin/sh", ["/bin/sh"]],
];

describe.each(SHELLS)("gust-step under %s", (name, shell) => {
  let pods: SimulatedPod[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) server.close();
    for (const pod of pods) await pod.dispose();
    pods = [];
  });

  async function run(steps: PodStep[]): Promise<{ pod: SimulatedPod; ends: StepEnd[] }> {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    await pod.start(shell, busybox, steps);
    return { pod, ends: await pod.finished() };
  }

  it("runs steps that start at once one after the other, each in its working directory", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    const log = join(pod.dir, "order.log");
    await mkdir(join(pod.workspace, "sub dir"));
    // Step 0 sleeps: without the hand-off, steps 1 and 2 would write first.
    const step = (index: number, extra = ""): PodStep => ({
      script: `echo "start ${index} $(pwd)" >> '${log}'\n${extra}\necho "end ${index}" >> '${log}'\necho "out ${index}"\n`,
    });
    await pod.start(shell, busybox, [
      step(0, "sleep 0.3"),
      { ...step(1, "sleep 0.1"), env: { GUST_STEP_WORKDIR: join(pod.workspace, "sub dir") } },
      step(2),
    ]);
    const ends = await pod.finished();

    expect((await readFile(log, "utf8")).split("\n")).toEqual([
      `start 0 ${pod.workspace}`,
      "end 0",
      `start 1 ${pod.workspace}/sub dir`,
      "end 1",
      `start 2 ${pod.workspace}`,
      "end 2",
      "",
    ]);
    expect(summary(ends)).toEqual([
      { status: "success", exit: 0, container: 0 },
      { status: "success", exit: 0, container: 0 },
      { status: "success", exit: 0, container: 0 },
    ]);
    // Output goes through untouched; the entrypoint adds nothing.
    expect(ends.map((end) => end.stdout)).toEqual(["out 0\n", "out 1\n", "out 2\n"]);
    expect(ends.map((end) => end.stderr)).toEqual(["", "", ""]);
    const reports = ends.map(report);
    for (let index = 1; index < reports.length; index++) {
      expect(reports[index]!.startedAt).toBeGreaterThanOrEqual(reports[index - 1]!.finishedAt!);
    }
    expect(await pod.stateFiles()).toEqual(["0.done", "0.status", "1.done", "1.status", "2.done", "2.status"]);
  });

  it("with GUST_STEP_TAG_STDERR=1 marks each stderr line (a last one without newline too) and leaves stdout alone", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    await pod.start(shell, busybox, [
      { script: "echo out-1; echo err-1 >&2; echo out-2; printf 'err-2' >&2\n", env: { GUST_STEP_TAG_STDERR: "1" } },
    ]);
    const [end] = await pod.finished();
    expect(end!.exitCode).toBe(0);
    expect(end!.stdout).toBe("out-1\nout-2\n");
    expect(end!.stderr).toBe("\u001eerr-1\n\u001eerr-2\n");
  });

  it("fails the job on a non-zero exit (sh -e): later steps are skipped, on-failure steps run", async () => {
    const { pod, ends } = await run([
      { script: "echo before\nfalse\necho not reached\n" },
      { script: "echo should not run\n" },
      { script: "echo cleanup\n", env: { GUST_STEP_ON_FAILURE: "1" } },
      { script: "echo only on failure\nexit 7\n", env: { GUST_STEP_ON_SUCCESS: "0", GUST_STEP_ON_FAILURE: "1" } },
    ]);
    expect(summary(ends)).toEqual([
      { status: "failure", exit: 1, container: 1 },
      { status: "skipped", exit: null, container: 0, reason: "skipped: an earlier step failed" },
      { status: "success", exit: 0, container: 0 },
      { status: "failure", exit: 7, container: 7 },
    ]);
    expect(ends.map((end) => end.stdout)).toEqual(["before\n", "", "cleanup\n", "only on failure\n"]);
    expect(report(ends[1]!).startedAt).toBeNull();
    expect(await pod.stateFiles()).toContain("failed");
  });

  it("continue-on-error records the failure but lets the job go on succeeding", async () => {
    const { pod, ends } = await run([
      { script: "exit 5\n", env: { GUST_STEP_CONTINUE_ON_ERROR: "1" } },
      { script: "echo next\n" },
      { script: "echo on failure\n", env: { GUST_STEP_ON_SUCCESS: "0", GUST_STEP_ON_FAILURE: "1" } },
    ]);
    expect(summary(ends)).toEqual([
      { status: "failure", exit: 5, container: 5 },
      { status: "success", exit: 0, container: 0 },
      { status: "skipped", exit: null, container: 0, reason: "skipped: runs only after a failure" },
    ]);
    expect(ends[1]!.stdout).toBe("next\n");
    expect(await pod.stateFiles()).not.toContain("failed");
  });

  it("times out: TERM to the step's whole group, KILL 2 s later to a script that traps TERM", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    const pids = join(pod.dir, "pids");
    await pod.start(shell, busybox, [
      {
        script: [
          "trap 'echo got TERM' TERM",
          "sleep 1000 &",
          `echo "$$ $!" > '${pids}'`,
          "while :; do sleep 0.05 || :; done",
          "",
        ].join("\n"),
        env: { GUST_STEP_TIMEOUT_MS: "300" },
      },
      { script: "echo should not run\n" },
    ]);
    const ends = await pod.finished();
    expect(summary(ends)).toEqual([
      { status: "timed-out", exit: null, container: 124, reason: "timed out after 300 ms" },
      { status: "skipped", exit: null, container: 0, reason: "skipped: an earlier step failed" },
    ]);
    expect(ends[0]!.stdout).toContain("got TERM");
    expect(await pod.stateFiles()).toEqual(["0.done", "0.status", "1.done", "1.status", "failed"]);
    // The script, its background sleep and the entrypoint's watchdog are all gone.
    const [script, background] = (await readFile(pids, "utf8")).trim().split(" ").map(Number);
    expect(script).toBeGreaterThan(0);
    expect(background).toBeGreaterThan(0);
    expect(await pod.leftovers()).toEqual([]);
  });

  it("a step that ends before its timeout keeps its own result and leaves no watchdog behind", async () => {
    const { pod, ends } = await run([{ script: "exit 3\n", env: { GUST_STEP_TIMEOUT_MS: "60000" } }, { script: "true\n" }]);
    expect(summary(ends)).toEqual([
      { status: "failure", exit: 3, container: 3 },
      { status: "skipped", exit: null, container: 0, reason: "skipped: an earlier step failed" },
    ]);
    expect(await pod.leftovers()).toEqual([]);
  });

  it("cancel: SIGTERM to the entrypoints stops the running step's group and the steps still waiting", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    const ready = join(pod.dir, "ready");
    await pod.start(shell, busybox, [
      { script: `sleep 1000 &\nsleep 1000 &\ntouch '${ready}'\nwait\n` },
      { script: "echo should not run\n" },
      { script: "echo should not run\n", env: { GUST_STEP_ON_FAILURE: "1" } },
    ]);
    await fileAppears(ready);
    // The waiting entrypoints have set their SIGTERM trap once they made their wake-up FIFOs (a
    // process that has not got that far yet dies of the signal: nothing to test there).
    await fileAppears(join(pod.stateDir, "0.wake"));
    await fileAppears(join(pod.stateDir, "1.wake"));
    // Pod deletion: every container's main process gets SIGTERM.
    for (const index of [0, 1, 2]) pod.kill(index, "SIGTERM");
    const ends = await pod.finished();
    expect(summary(ends)).toEqual([
      { status: "cancelled", exit: null, container: 143, reason: "cancelled" },
      { status: "cancelled", exit: null, container: 143, reason: "cancelled before the step started" },
      { status: "cancelled", exit: null, container: 143, reason: "cancelled before the step started" },
    ]);
    expect(report(ends[0]!).startedAt).not.toBeNull();
    expect(await pod.leftovers()).toEqual([]);
  });

  it("cancel: a step woken by a cancelled one does not start, even before its own SIGTERM arrives", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    const ready = join(pod.dir, "ready");
    await pod.start(shell, busybox, [{ script: `touch '${ready}'\nsleep 1000\n` }, { script: "echo should not run\n", env: { GUST_STEP_ON_FAILURE: "1" } }]);
    await fileAppears(ready);
    pod.kill(0, "SIGTERM");
    const ends = await pod.finished();
    expect(summary(ends)).toEqual([
      { status: "cancelled", exit: null, container: 143, reason: "cancelled" },
      { status: "cancelled", exit: null, container: 143, reason: "cancelled before the step started" },
    ]);
    expect(ends[1]!.stdout).not.toContain("should not run");
  });

  it("cancel: a script that traps TERM is killed after the grace period, with no orphans", async () => {
    const pod = await SimulatedPod.create();
    pods.push(pod);
    const ready = join(pod.dir, "ready");
    await pod.start(shell, busybox, [
      { script: `trap 'echo got TERM' TERM\n(trap '' TERM; sleep 1000) &\ntouch '${ready}'\nwhile :; do sleep 0.05 || :; done\n` },
    ]);
    await fileAppears(ready);
    pod.kill(0, "SIGTERM");
    const [end] = await pod.finished();
    expect(summary([end!])).toEqual([{ status: "cancelled", exit: null, container: 143, reason: "cancelled" }]);
    expect(end!.stdout).toContain("got TERM");
    expect(await pod.leftovers()).toEqual([]);
  });

  it("fails a step whose working directory does not exist", async () => {
    const { pod, ends } = await run([{ script: "echo should not run\n", env: { GUST_STEP_WORKDIR: "/nonexistent/gust" } }]);
    expect(summary(ends)).toEqual([
      { status: "failure", exit: null, container: 1, reason: "working directory /nonexistent/gust does not exist" },
    ]);
    expect(ends[0]!.stdout).toBe("");
    expect(ends[0]!.stderr).toContain("working directory /nonexistent/gust does not exist");
    expect(await pod.stateFiles()).toContain("failed");
  });

  it("records a setting it cannot read as a failure naming it, and refuses an index it cannot use", async () => {
    const { pod, ends } = await run([{ script: "true\n", env: { GUST_STEP_TIMEOUT_MS: "5s" } }, { script: "true\n" }]);
    expect(summary(ends)).toEqual([
      { status: "failure", exit: null, container: 2, reason: "GUST_STEP_TIMEOUT_MS must be a whole number of milliseconds, got '5s'" },
      { status: "skipped", exit: null, container: 0, reason: "skipped: an earlier step failed" },
    ]);
    expect(await pod.stateFiles()).toContain("failed");

    const bad = await run([{ script: "true\n", env: { GUST_STEP_INDEX: "01" } }]);
    expect(bad.ends[0]!.exitCode).toBe(2);
    expect(bad.ends[0]!.stderr).toContain("GUST_STEP_INDEX must be the step's index");
    expect(await bad.pod.stateFiles()).toEqual([]);
  });

  it("step 0 waits for the service ports before it runs", async () => {
    const port = await freePort();
    const pod = await SimulatedPod.create();
    pods.push(pod);
    // The step checks for itself that the port is open by the time it runs.
    await pod.start(shell, busybox, [
      { script: `'${busybox}' nc -w 1 127.0.0.1 ${port} -e '${busybox}' true\necho port open\n`, env: { GUST_SERVICE_PORTS: String(port) } },
    ]);
    await sleep(300);
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const ends = await pod.finished();
    expect(summary(ends)).toEqual([{ status: "success", exit: 0, container: 0 }]);
    expect(ends[0]!.stdout).toBe("port open\n");
    expect(ends[0]!.stderr).toBe("");
  });

  it("step 0 gives up on a service port after GUST_SERVICE_WAIT_MS, warns, and runs anyway", async () => {
    const port = await freePort();
    const { ends } = await run([
      { script: "echo ran\n", env: { GUST_SERVICE_PORTS: String(port), GUST_SERVICE_WAIT_MS: "200" } },
    ]);
    expect(summary(ends)).toEqual([{ status: "success", exit: 0, container: 0 }]);
    expect(ends[0]!.stdout).toBe("ran\n");
    expect(ends[0]!.stderr).toContain(`warning: service port ${port} on 127.0.0.1 does not accept connections after 200 ms`);
  });

  it("hands off from step to step (latency printed, not asserted)", async () => {
    const steps = 20;
    const { ends } = await run(Array.from({ length: steps }, () => ({ script: "true\n" })));
    const reports = ends.map(report);
    expect(reports.every((r) => r.status === "success")).toBe(true);
    const handoffs = reports.slice(1).map((r, index) => r.startedAt! - reports[index]!.finishedAt!);
    for (const gap of handoffs) expect(gap).toBeGreaterThanOrEqual(0);
    const total = reports.at(-1)!.finishedAt! - reports[0]!.startedAt!;
    console.log(
      `gust-step under ${name}: ${steps} no-op steps in ${total} ms; hand-off (done-file → next script start) ` +
        `median ${median(handoffs)} ms, max ${Math.max(...handoffs)} ms`,
    );
  });
});
