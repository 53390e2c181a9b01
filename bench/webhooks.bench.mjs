// Webhook intake: Gust's POST /hooks/github (size check, HMAC over the raw body, headers, JSON
// parse, event check, intake, metrics, a pino line per request) against a bare Hono handler that
// only answers 202, both behind @hono/node-server in one child process, driven by autocannon from
// this one with signed real push payloads and a new delivery id per request.
// The intake is in memory: this measures the HTTP layer, not the database.
import { fork } from "node:child_process";
import { createHmac } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const SECRET = "bench-webhook-secret";
const DURATION_S = 5;
const CONNECTIONS = 32;
const FIXED_RATE = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// The server entry, bundled with the app's own sources; packages stay external and resolve from
// node_modules, so the output lives under node_modules/.cache.
const SERVER_ENTRY = `
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import pino from "pino";
import { createHttpApp, createMetrics } from "./src/http";

let created = 0;
let duplicates = 0;
const seen = new Set();
const intake = {
  async accept(delivery) {
    const key = delivery.forge + ":" + delivery.deliveryId;
    if (seen.has(key)) return (duplicates++, { status: "duplicate" });
    seen.add(key);
    created++;
    return { status: "created" };
  },
  async secretsFor() {
    return ["rotated-out-secret", process.env.BENCH_SECRET];
  },
};
const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false }));
const gust = createHttpApp({ intake, readiness: { check: async () => ({ ready: true }) }, metrics: createMetrics(), logger });
const bare = new Hono();
bare.post("/hooks/github", (c) => c.json({ delivery: c.req.header("x-github-delivery"), status: "created" }, 202));

const listen = (app) => new Promise((resolve) => {
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => resolve(info.port));
});
const [gustPort, barePort] = await Promise.all([listen(gust), listen(bare)]);
process.on("message", (message) => {
  if (message === "stats") process.send({ created, duplicates });
  if (message === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send({ cpu: user + system });
  }
  if (message === "exit") process.exit(0);
});
process.send({ gustPort, barePort });
`;

async function startServers(dir) {
  const outfile = join(dir, "webhooks-server.mjs");
  await build({
    stdin: { contents: SERVER_ENTRY, resolveDir: root, loader: "ts", sourcefile: "webhooks-server.ts" },
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  const child = fork(outfile, [], { env: { ...process.env, BENCH_SECRET: SECRET }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ports = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const ask = (message) => new Promise((resolve) => (child.once("message", resolve), child.send(message)));
  return { ports, stats: () => ask("stats"), cpu: async () => (await ask("cpu")).cpu, stop: () => child.send("exit") };
}

const pushExample = require("@octokit/webhooks-examples").find((definition) => definition.name === "push").examples.find((example) => example.ref === "refs/heads/master");
const body = JSON.stringify(pushExample);
const headers = {
  "content-type": "application/json",
  "user-agent": "GitHub-Hookshot/044aadd",
  "x-github-event": "push",
  "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
};

let deliveries = 0;
function run(port, options) {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    ...options,
    requests: [
      {
        method: "POST",
        path: "/hooks/github",
        body,
        // A new delivery id per request: every request is a first delivery, stored, never a duplicate.
        setupRequest(request) {
          request.headers = { ...headers, "x-github-delivery": `bench-${process.pid}-${++deliveries}` };
          return request;
        },
      },
    ],
  });
}

/**
 * Open-loop load at an even pace: request i is due at start + i / rate and its latency counts from
 * then, so a server (or client) falling behind shows up in the figures. autocannon's overallRate
 * sends each connection's quota for the second back to back at the top of the second, so 1,000
 * req/s arrive as one burst a second; both are printed.
 */
async function paced(port, rate, seconds) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = rate * seconds;
  const latencies = [];
  let failures = 0;
  let sent = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    let done = 0;
    const finish = () => ++done === total && resolve();
    const send = (due) => {
      const request = httpRequest(
        { host: "127.0.0.1", port, method: "POST", path: "/hooks/github", agent, headers: { ...headers, "content-length": Buffer.byteLength(body), "x-github-delivery": `paced-${process.pid}-${++deliveries}` } },
        (response) => {
          if (response.statusCode !== 202) failures++;
          response.resume();
          response.on("end", () => (latencies.push(performance.now() - due), finish()));
        },
      );
      request.on("error", () => (failures++, finish()));
      request.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) send(start + (sent++ * 1000) / rate);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  if (failures > 0) throw new Error(`paced run: ${failures} failed requests`);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rate: total / ((performance.now() - start) / 1000), p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] };
}

function check(result, label) {
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (n, digits = 2) => n.toFixed(digits);
const perSecond = (n) => Math.round(n).toLocaleString("en-US").padStart(7);
const mark = (ok) => (ok ? "ok" : "MISSED");
const range = (values) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

const cache = join(root, "node_modules", ".cache");
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, "gust-bench-webhooks-"));
const servers = await startServers(dir);
try {
  const { gustPort, barePort } = servers.ports;
  const loadBefore = loadavg()[0];
  // Warm up both (JIT, keep-alive connections) before measuring.
  check(await run(gustPort, { duration: 2 }), "gust warm-up");
  check(await run(barePort, { duration: 2 }), "bare warm-up");

  // Rounds alternate gust and bare so a burst of other work on the machine hits both alike;
  // the medians are printed.
  const rounds = { gust: [], bare: [], gustPaced: [], barePaced: [] };
  // Server CPU time per request does not depend on what else the machine is doing, unlike latency.
  const measured = async (port, label) => {
    const before = await servers.cpu();
    const result = check(await run(port), label);
    result.cpuPerRequest = ((await servers.cpu()) - before) / result.requests.total;
    return result;
  };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.gust.push(await measured(gustPort, "gust"));
    rounds.bare.push(await measured(barePort, "bare"));
  }
  for (let round = 0; round < ROUNDS; round++) {
    rounds.gustPaced.push(await paced(gustPort, FIXED_RATE, DURATION_S));
    rounds.barePaced.push(await paced(barePort, FIXED_RATE, DURATION_S));
  }
  const gustBursts = check(await run(gustPort, { overallRate: FIXED_RATE }), "gust at a fixed rate");
  const bareBursts = check(await run(barePort, { overallRate: FIXED_RATE }), "bare at a fixed rate");
  const loadAfter = loadavg()[0];
  const stats = await servers.stats();
  if (stats.duplicates > 0) throw new Error(`${stats.duplicates} deliveries were answered as duplicates`);

  const summary = (results) => ({
    rate: median(results.map((result) => result.requests.average)),
    p50: median(results.map((result) => result.latency.p50)),
    p99: median(results.map((result) => result.latency.p99)),
    cpu: median(results.map((result) => result.cpuPerRequest)),
  });
  const gust = summary(rounds.gust);
  const bare = summary(rounds.bare);
  const ratio = gust.rate / bare.rate;
  const pacedSummary = (results) => ({
    rate: median(results.map((result) => result.rate)),
    p50: median(results.map((result) => result.p50)),
    p99: median(results.map((result) => result.p99)),
    p99s: results.map((result) => result.p99),
  });
  const gustPaced = pacedSummary(rounds.gustPaced);
  const barePaced = pacedSummary(rounds.barePaced);

  console.log(`webhooks: signed GitHub push (${body.length} bytes), a new delivery id per request, in-memory intake`);
  console.log(`  machine load (1-min average): ${fmt(loadBefore)} before, ${fmt(loadAfter)} after, on ${cpus().length} CPUs; the server and the load generator share them`);
  console.log(`  as fast as possible, ${CONNECTIONS} connections, ${DURATION_S} s × ${ROUNDS} rounds each, medians:`);
  console.log(`    gust POST /hooks/github   ${perSecond(gust.rate)} req/s   p50 ${fmt(gust.p50)} ms   p99 ${fmt(gust.p99)} ms`);
  console.log(`    bare Hono 202             ${perSecond(bare.rate)} req/s   p50 ${fmt(bare.p50)} ms   p99 ${fmt(bare.p99)} ms`);
  console.log(`    server CPU per request    gust ${fmt(gust.cpu, 0)} µs, bare ${fmt(bare.cpu, 0)} µs (gust costs ${fmt(gust.cpu - bare.cpu, 0)} µs more; independent of the machine's load)`);
  console.log(`    ratio gust / bare         ${fmt(ratio)}×   (target ≥ 0.5×: ${mark(ratio >= 0.5)}; rounds: ${rounds.gust.map((g, i) => fmt(g.requests.average / rounds.bare[i].requests.average)).join(", ")})`);
  console.log(`  at ${FIXED_RATE.toLocaleString("en-US")} req/s evenly paced (open loop, latency counted from each request's due time), ${DURATION_S} s × ${ROUNDS} rounds each, medians:`);
  console.log(`    gust                      ${perSecond(gustPaced.rate)} req/s   p50 ${fmt(gustPaced.p50)} ms   p99 ${fmt(gustPaced.p99)} ms (rounds ${range(gustPaced.p99s)})   (target p99 < 25 ms: ${mark(gustPaced.p99 < 25)})`);
  console.log(`    bare                      ${perSecond(barePaced.rate)} req/s   p50 ${fmt(barePaced.p50)} ms   p99 ${fmt(barePaced.p99)} ms (rounds ${range(barePaced.p99s)})`);
  console.log(`  at ${FIXED_RATE.toLocaleString("en-US")} req/s by autocannon overallRate (each of ${CONNECTIONS} connections sends its quota at the top of every second: bursts of ${FIXED_RATE.toLocaleString("en-US")}), ${DURATION_S} s:`);
  console.log(`    gust                      ${perSecond(gustBursts.requests.average)} req/s   p50 ${fmt(gustBursts.latency.p50)} ms   p99 ${fmt(gustBursts.latency.p99)} ms`);
  console.log(`    bare                      ${perSecond(bareBursts.requests.average)} req/s   p50 ${fmt(bareBursts.latency.p50)} ms   p99 ${fmt(bareBursts.latency.p99)} ms`);
  console.log(`  deliveries stored by gust: ${stats.created.toLocaleString("en-US")}, none answered as duplicate`);
} finally {
  servers.stop();
  rmSync(dir, { recursive: true, force: true });
}
