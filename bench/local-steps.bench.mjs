// Per-step overhead of the local executor: a pipeline of N steps of `true` through `gust run`,
// against a shell script running the same N commands, measured in the same run.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const gust = fileURLToPath(new URL("../bin/gust", import.meta.url));
const ROUNDS = 7;
const STEPS = 50;

function pipeline(steps) {
  const lines = ["on: push", "jobs:", "  bench:", "    steps:"];
  for (let i = 0; i < steps; i++) lines.push(`      - run: "true"`);
  return lines.join("\n") + "\n";
}

function repo(steps) {
  const dir = mkdtempSync(join(tmpdir(), `gust-bench-${steps}-`));
  writeFileSync(join(dir, ".gust.yml"), pipeline(steps));
  return dir;
}

function time(command, args, env = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const cacheDir = mkdtempSync(join(tmpdir(), "gust-bench-cache-"));
const small = repo(STEPS);
const large = repo(STEPS * 2);
// The baseline: one shell script running the same commands, each in its own `sh -e -c` as gust does.
const script = join(small, "steps.sh");
writeFileSync(script, Array.from({ length: STEPS }, () => `sh -e -c true`).join("\n") + "\n");
const bare = join(small, "bare.sh");
writeFileSync(bare, Array.from({ length: STEPS }, () => "true").join("\n") + "\n");

const runs = { gust: [], gustLarge: [], script: [], bare: [], node: [] };
time(gust, ["run", small, "--cache-dir", cacheDir]); // warm the file cache
for (let round = 0; round < ROUNDS; round++) {
  runs.gust.push(time(gust, ["run", small, "--cache-dir", cacheDir]));
  runs.gustLarge.push(time(gust, ["run", large, "--cache-dir", cacheDir]));
  runs.script.push(time("sh", [script]));
  runs.bare.push(time("sh", [bare]));
  runs.node.push(time(process.execPath, ["-e", "0"]));
}
rmSync(small, { recursive: true, force: true });
rmSync(large, { recursive: true, force: true });
rmSync(cacheDir, { recursive: true, force: true });

const gustMs = median(runs.gust);
const gustLargeMs = median(runs.gustLarge);
const scriptMs = median(runs.script);
const bareMs = median(runs.bare);
const nodeMs = median(runs.node);
const perStep = (gustMs - scriptMs) / STEPS;
const marginal = (gustLargeMs - gustMs) / STEPS - scriptMs / STEPS;
const fmt = (n) => n.toFixed(2);

console.log(`local executor, ${STEPS} steps of \`true\` (median of ${ROUNDS} runs)`);
console.log(`  gust run, ${STEPS} steps:            ${fmt(gustMs)} ms  (node start alone: ${fmt(nodeMs)} ms)`);
console.log(`  gust run, ${STEPS * 2} steps:           ${fmt(gustLargeMs)} ms`);
console.log(`  shell script, ${STEPS} × sh -e -c true: ${fmt(scriptMs)} ms`);
console.log(`  shell script, ${STEPS} × true:          ${fmt(bareMs)} ms`);
console.log(`  overhead per step, whole command:   ${fmt(perStep)} ms  (target < 5 ms; includes gust's start-up spread over ${STEPS} steps)`);
console.log(`  overhead per step, marginal:        ${fmt(marginal)} ms  (each extra step beyond the shell's own cost)`);
console.log(`  ratio gust / script:                ${fmt(gustMs / scriptMs)}×`);
