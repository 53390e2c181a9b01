// Step hand-off of the Kubernetes pod protocol, on the host: 20 no-op steps as 20 step entrypoints
// (runner-images/entrypoint/gust-step under busybox sh, as in a pod) started at once on a shared
// state directory, against the same 20 step scripts run one after another by one shell.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const entrypoint = fileURLToPath(new URL("../runner-images/entrypoint/gust-step", import.meta.url));
const busybox = ["/usr/bin/busybox", "/bin/busybox"].find((path) => existsSync(path));
if (!busybox) {
  console.error("step-handoff: busybox is missing (apt-get install busybox-static)");
  process.exit(1);
}
const ROUNDS = 7;
const STEPS = 20;

const dir = mkdtempSync(join(tmpdir(), "gust-bench-handoff-"));
const scripts = Array.from({ length: STEPS }, (_, index) => join(dir, `step-${index}.sh`));
for (const script of scripts) writeFileSync(script, "true\n");
// The baseline: each step's script in its own `sh -e`, one after the other, from one shell.
const sequential = join(dir, "sequential.sh");
writeFileSync(sequential, scripts.map((script) => `/bin/sh -e ${script}`).join("\n") + "\n");

function exited(child) {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`an entrypoint exited with ${code}`))));
  });
}

/**
 * One pod's worth of steps: the wall time, each hand-off (done → next start), each step's run time
 * (its script's start to its done) and how long the first step took to start, in ms.
 */
async function pod(shell) {
  const state = join(dir, "state");
  rmSync(state, { recursive: true, force: true });
  mkdirSync(state);
  const start = process.hrtime.bigint();
  const startedAt = Date.now();
  const children = scripts.map((script, index) =>
    spawn(shell[0], [...shell.slice(1), entrypoint], {
      stdio: "ignore",
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        GUST_BUSYBOX: busybox,
        GUST_STATE_DIR: state,
        GUST_TERMINATION_LOG: "/dev/null",
        GUST_STEP_INDEX: String(index),
        GUST_STEP_SCRIPT: script,
      },
    }),
  );
  await Promise.all(children.map(exited));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const reports = scripts.map((_, index) => {
    const line = readFileSync(join(state, `${index}.status`), "utf8");
    return { started: Number(/started=(\d+)/.exec(line)[1]), finished: Number(/finished=(\d+)/.exec(line)[1]) };
  });
  const handoffs = reports.slice(1).map((report, index) => report.started - reports[index].finished);
  const runs = reports.map((report) => report.finished - report.started);
  return { ms, handoffs, runs, firstStart: reports[0].started - startedAt };
}

function time(command, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const fmt = (n) => n.toFixed(1);

const runs = { busybox: [], dash: [], shell: [] };
const handoffs = { busybox: [], dash: [] };
const steps = [];
const firstStarts = [];
await pod([busybox, "sh"]); // warm the file cache
for (let round = 0; round < ROUNDS; round++) {
  const viaBusybox = await pod([busybox, "sh"]);
  runs.busybox.push(viaBusybox.ms);
  handoffs.busybox.push(...viaBusybox.handoffs);
  steps.push(...viaBusybox.runs);
  firstStarts.push(viaBusybox.firstStart);
  const viaDash = await pod(["/bin/sh"]);
  runs.dash.push(viaDash.ms);
  handoffs.dash.push(...viaDash.handoffs);
  runs.shell.push(time("/bin/sh", [sequential]));
}
rmSync(dir, { recursive: true, force: true });

const busyboxMs = median(runs.busybox);
const dashMs = median(runs.dash);
const shellMs = median(runs.shell);
console.log(`step hand-off, ${STEPS} no-op steps (median of ${ROUNDS} runs)`);
console.log(`  ${STEPS} entrypoints under busybox sh (as in pods): ${fmt(busyboxMs)} ms`);
console.log(`  ${STEPS} entrypoints under /bin/sh:                  ${fmt(dashMs)} ms`);
console.log(`  one shell, ${STEPS} × sh -e step.sh:               ${fmt(shellMs)} ms`);
console.log(
  `  hand-off (done-file → next script start), busybox sh: median ${median(handoffs.busybox)} ms, p90 ${percentile(handoffs.busybox, 0.9)} ms, max ${Math.max(...handoffs.busybox)} ms  (target well under 100 ms)`,
);
console.log(
  `  hand-off, /bin/sh:                                    median ${median(handoffs.dash)} ms, p90 ${percentile(handoffs.dash, 0.9)} ms, max ${Math.max(...handoffs.dash)} ms`,
);
console.log(`  each step, script start → done-file, busybox sh:      median ${median(steps)} ms (one shell: ${fmt(shellMs / STEPS)} ms a step)`);
console.log(`  first step's start after spawning ${STEPS} entrypoints: median ${median(firstStarts)} ms`);
console.log(`  overhead per step, busybox sh:  ${fmt((busyboxMs - shellMs) / STEPS)} ms`);
console.log(`  ratio entrypoints / one shell:  ${fmt(busyboxMs / shellMs)}×  (/bin/sh: ${fmt(dashMs / shellMs)}×)`);
