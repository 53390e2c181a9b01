// Time from an analysis failure to all traffic on the stable version, on the local target with
// the real controller (ReleaseDriver + release tick), router and processes. Version 1 answers 200,
// version 2 answers 500; a client keeps requesting the router while the release sends 50% to
// version 2 and analyses it every interval. Printed per run and as medians:
//   rollback   = the failed measurement → the router serving version 1 alone (target: < 1 interval)
//   exposure   = first 500 a client saw → last 500 a client saw (bounded by interval + rollback)
// Baseline in the same run: the analysis interval itself.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleEntries } from "./lib/bundle.mjs";
import { fmt, median } from "./lib/stats.mjs";

const RUNS = Number(process.env.BENCH_ROLLBACK_RUNS ?? 5);
const INTERVAL_MS = Number(process.env.BENCH_ROLLBACK_INTERVAL_MS ?? 1_000);

const ENTRY = `
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalTargetHost } from "./src/release/local";
import { ReleaseDriver } from "./src/release/release-driver";
import { releaseArtifact } from "./src/release/release-artifact";
import { measureVersion } from "./src/release/measure";
import { initialState } from "./src/release/release-state";

const APP = 'const http = require("node:http"); const bad = require("node:fs").readFileSync(__dirname + "/label", "utf8").includes("bad");' +
  'http.createServer((req, res) => { if (req.url === "/health") return res.end("ok"); res.statusCode = bad ? 500 : 200; res.end(bad ? "bad" : "good"); }).listen(Number(process.env.PORT), "127.0.0.1");';

function version(root, label) {
  const dir = join(root, label);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "server.js"), APP);
  writeFileSync(join(dir, "label"), label);
  return dir;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function run(intervalMs) {
  const root = mkdtempSync(join(tmpdir(), "gust-bench-rollback-"));
  const port = await freePort();
  const target = { type: "local", command: "node server.js", port, healthPath: "/health", env: {} };
  const host = new LocalTargetHost({ root: join(root, "host") });
  const def = {
    needs: [], target, steps: [{ kind: "weight", weight: 50 }, { kind: "analysis", durationMs: 60_000 }],
    analysis: { intervalMs, failureLimit: 0, inconclusiveLimit: 100, minRequests: 5, metrics: [{ name: "error-rate", source: { kind: "builtin", metric: "error-rate" }, max: 0.05 }] },
    progressDeadlineMs: 600_000, rollback: "auto", keepVersions: 5,
  };
  const provider = host.provider(target);
  const stable = await provider.publish(await releaseArtifact(target, { root: version(root, "good") }, "v1"));
  await provider.promote(stable.version);

  let running = true;
  let firstBad, lastBad;
  const client = async () => {
    while (running) {
      const response = await fetch("http://127.0.0.1:" + port + "/").catch(() => undefined);
      if (!response) continue;
      await response.text();
      if (response.status === 500) { lastBad = performance.now(); firstBad ??= lastBad; }
    }
  };
  const clients = [client(), client(), client(), client()];
  const marks = {};
  const driver = new ReleaseDriver({
    def, state: initialState(Date.now()), provider,
    artifact: () => releaseArtifact(target, { root: version(root, "bad") }, "v2"),
    measure: (v, from, to) => measureVersion(def.analysis, provider, v, from, to),
    save: async () => true, commands: async () => [], cancelled: () => undefined, log: () => undefined,
    onTransition: (transition) => { marks[transition.to] = performance.now(); },
  });
  const result = await driver.run();
  // Requests in flight when the router switched may still answer from version 2: let them land.
  await new Promise((resolve) => setTimeout(resolve, 200));
  running = false;
  await Promise.all(clients);
  await provider.close();
  await host.close();
  return {
    phase: result.ended ? result.state.phase : "not ended",
    rollbackMs: marks["rolled-back"] - marks["rolling-back"],
    exposureMs: lastBad - firstBad,
    detectionMs: marks["rolling-back"] - firstBad,
    root,
  };
}
`;

const { files, remove } = await bundleEntries("rollback", { rollback: ENTRY });
try {
  const { run } = await import(files.rollback);
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const result = await run(INTERVAL_MS);
    rmSync(result.root, { recursive: true, force: true });
    if (result.phase !== "rolled-back") throw new Error(`run ${i + 1} ended ${result.phase}, not rolled-back`);
    results.push(result);
    console.log(`run ${i + 1}: rollback ${fmt(result.rollbackMs)} ms, detection ${fmt(result.detectionMs)} ms, exposure ${fmt(result.exposureMs)} ms`);
  }
  const middle = (key) => median(results.map((result) => result[key]));
  const rollback = middle("rollbackMs");
  console.log(`analysis interval (baseline): ${INTERVAL_MS} ms`);
  console.log(`rollback (failed measurement → stable version alone), median: ${fmt(rollback)} ms = ${(rollback / INTERVAL_MS).toFixed(3)}× the interval — target < 1×: ${rollback < INTERVAL_MS ? "met" : "NOT met"}`);
  console.log(`detection (first failing request → failed measurement), median: ${fmt(middle("detectionMs"))} ms (≤ one interval + the measurement)`);
  console.log(`exposure (first → last failing response a client saw), median: ${fmt(middle("exposureMs"))} ms = ${(middle("exposureMs") / INTERVAL_MS).toFixed(2)}× the interval`);
} finally {
  remove();
}
