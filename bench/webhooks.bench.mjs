// Webhook intake: Gust's POST /hooks/github (size check, HMAC over the raw body, headers, JSON
// parse, event check, intake, metrics, a pino line per request) against a bare Hono handler that
// only answers 202, all behind @hono/node-server in one child process, driven by autocannon from
// this one with signed real push payloads and a new delivery id per request.
//
// The intake three ways: in memory (the HTTP layer alone), and durable as `gust serve` has it —
// DeliveriesStore.recordDelivery committed before the 202 — on the embedded PGlite in a temp data
// directory and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on a scratch PostgreSQL
// database. The durable ones are what the target is about. The delivery worker that serve.ts hands
// each new delivery to is left out: its work comes after the 202 (pipeline-start.bench.mjs
// measures that path). BENCH_ROUNDS sets the rounds (default 3).
import { fork } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { bundleEntries } from "./lib/bundle.mjs";
import { benchDatabaseUrl, createScratchDatabase } from "./lib/scratch-database.mjs";
import { pacedLoad } from "./lib/paced-load.mjs";
import { fmt, mark, median } from "./lib/stats.mjs";

const require = createRequire(import.meta.url);
const SECRET = "bench-webhook-secret";
const DURATION_S = 5;
const CONNECTIONS = 32;
const FIXED_RATE = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TARGET_P99_MS = 25;
const TARGET_RATIO = 0.5;

// The server entry. Each intake counts what it answered; the durable ones also count their rows.
const SERVER_ENTRY = `
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import pino from "pino";
import { sql } from "drizzle-orm";
import { createHttpApp, createMetrics } from "./src/http";
import { applyMigrations, DeliveriesStore, openDatabase } from "./src/store";
import { rowsOf } from "./src/store/transaction";

const secrets = ["rotated-out-secret", process.env.BENCH_SECRET];
const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false }));

function memoryIntake() {
  const seen = new Set();
  const counts = { created: 0, duplicates: 0 };
  return {
    counts,
    intake: {
      async accept(delivery) {
        const key = delivery.forge + ":" + delivery.deliveryId;
        if (seen.has(key)) return (counts.duplicates++, { status: "duplicate" });
        seen.add(key);
        counts.created++;
        return { status: "created" };
      },
      secretsFor: async () => secrets,
    },
    readiness: { check: async () => ({ ready: true }) },
    stored: async () => ({ rows: counts.created, distinct: counts.created }),
    close: async () => {},
  };
}

/** The intake of src/main/serve.ts: the delivery is committed before the 202 is sent. */
async function durableIntake(options) {
  const database = await openDatabase(options);
  await applyMigrations(database);
  const deliveries = new DeliveriesStore(database);
  const counts = { created: 0, duplicates: 0 };
  return {
    counts,
    intake: {
      async accept(delivery) {
        const result = await deliveries.recordDelivery({ forge: delivery.forge, deliveryId: delivery.deliveryId, event: delivery.event, payload: delivery.payload });
        counts[result.status === "created" ? "created" : "duplicates"]++;
        return { status: result.status };
      },
      secretsFor: async () => secrets,
    },
    readiness: {
      async check() {
        await database.db.execute(sql\`select 1\`);
        return { ready: true };
      },
    },
    async stored() {
      const [row] = await rowsOf(database.db, sql\`select count(*)::int as rows, count(distinct (forge, delivery_id))::int as distinct from deliveries\`);
      return row;
    },
    close: () => database.close(),
  };
}

const listen = (app) => new Promise((resolve) => {
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => resolve(info.port));
});

const intakes = { memory: memoryIntake(), pglite: await durableIntake({ dataDir: process.env.BENCH_DATA_DIR }) };
if (process.env.BENCH_POSTGRES_URL) intakes.postgres = await durableIntake({ url: process.env.BENCH_POSTGRES_URL });
const ports = {};
for (const [name, { intake, readiness }] of Object.entries(intakes)) {
  ports[name] = await listen(createHttpApp({ intake, readiness, metrics: createMetrics(), logger }));
}
const bare = new Hono();
bare.post("/hooks/github", (c) => c.json({ delivery: c.req.header("x-github-delivery"), status: "created" }, 202));
ports.bare = await listen(bare);

process.on("message", async (message) => {
  if (message === "stats") {
    const stats = {};
    for (const [name, intake] of Object.entries(intakes)) stats[name] = { ...intake.counts, ...(await intake.stored()) };
    process.send(stats);
  }
  if (message === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send({ cpu: user + system });
  }
  if (message === "exit") {
    for (const intake of Object.values(intakes)) await intake.close();
    process.exit(0);
  }
});
process.send(ports);
`;

async function startServers(env) {
  const bundle = await bundleEntries("webhooks", { "webhooks-server": SERVER_ENTRY });
  const child = fork(bundle.files["webhooks-server"], [], { env: { ...process.env, BENCH_SECRET: SECRET, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const ports = await new Promise((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const ask = (message) => new Promise((resolve) => (child.once("message", resolve), child.send(message)));
    return {
      ports,
      stats: () => ask("stats"),
      cpu: async () => (await ask("cpu")).cpu,
      async stop() {
        if (child.exitCode === null) child.send("exit");
        await exited;
        bundle.remove();
      },
    };
  } catch (error) {
    child.kill();
    bundle.remove();
    throw error;
  }
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

const paced = (port) =>
  pacedLoad({ port, path: "/hooks/github", rate: FIXED_RATE, seconds: DURATION_S, body, headers: () => ({ ...headers, "x-github-delivery": `paced-${process.pid}-${++deliveries}` }) });

function check(result, label) {
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${label}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`);
  }
  return result;
}

const perSecond = (n) => Math.round(n).toLocaleString("en-US").padStart(7);
const range = (values) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;

const dataDir = mkdtempSync(join(tmpdir(), "gust-bench-webhooks-"));
const postgresUrl = benchDatabaseUrl();
const scratch = postgresUrl ? await createScratchDatabase(postgresUrl, "gust_bench_webhooks") : undefined;
let servers;
try {
  servers = await startServers({ BENCH_DATA_DIR: dataDir, ...(scratch ? { BENCH_POSTGRES_URL: scratch.url } : {}) });
  const variants = [
    { key: "memory", label: "gust, in-memory intake", durable: false },
    { key: "pglite", label: "gust, PGlite (file)", durable: true },
    ...(scratch ? [{ key: "postgres", label: "gust, PostgreSQL", durable: true }] : []),
    { key: "bare", label: "bare Hono 202", durable: false },
  ].map((variant) => ({ ...variant, port: servers.ports[variant.key], fast: [], paced: [], answered: 0 }));
  const counted = (variant, result) => ((variant.answered += result["2xx"] ?? result.answered ?? 0), result);

  const loadBefore = loadavg()[0];
  // Warm up (JIT, keep-alive connections, the databases' caches) before measuring.
  for (const variant of variants) counted(variant, check(await run(variant.port, { duration: 2 }), `${variant.key} warm-up`));

  // Server CPU time per request does not depend on what else the machine is doing, unlike latency.
  const measured = async (variant) => {
    const before = await servers.cpu();
    const result = counted(variant, check(await run(variant.port), variant.key));
    result.cpuPerRequest = ((await servers.cpu()) - before) / result.requests.total;
    return result;
  };
  // Rounds go through every variant in turn so a burst of other work on the machine hits all
  // alike; the medians are printed.
  for (let round = 0; round < ROUNDS; round++) for (const variant of variants) variant.fast.push(await measured(variant));
  // A variant whose closed-loop throughput is under the rate cannot keep up with it: its answers
  // queue for as long as the round lasts and more, so one round says all there is to say.
  for (const variant of variants) variant.overloaded = median(variant.fast.map((result) => result.requests.average)) < FIXED_RATE;
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) if (round === 0 || !variant.overloaded) variant.paced.push(counted(variant, await paced(variant.port)));
  }
  for (const variant of variants) variant.bursts = counted(variant, check(await run(variant.port, { overallRate: FIXED_RATE }), `${variant.key} at a fixed rate`));
  const loadAfter = loadavg()[0];
  const stats = await servers.stats();

  const bare = variants.find((variant) => variant.key === "bare");
  for (const variant of variants) {
    variant.rate = median(variant.fast.map((result) => result.requests.average));
    variant.p50 = median(variant.fast.map((result) => result.latency.p50));
    variant.p99 = median(variant.fast.map((result) => result.latency.p99));
    variant.cpu = median(variant.fast.map((result) => result.cpuPerRequest));
    variant.pacedRate = median(variant.paced.map((result) => result.rate));
    variant.pacedP50 = median(variant.paced.map((result) => result.p50));
    variant.pacedP99 = median(variant.paced.map((result) => result.p99));
  }
  const label = (variant) => variant.label.padEnd(26);
  const ratioOf = (variant) => variant.rate / bare.rate;

  console.log(`webhooks: signed GitHub push (${body.length} bytes), a new delivery id per request`);
  console.log(`  machine load (1-min average): ${fmt(loadBefore)} before, ${fmt(loadAfter)} after, on ${cpus().length} CPUs; the server and the load generator share them`);
  console.log(`  as fast as possible, ${CONNECTIONS} connections, ${DURATION_S} s × ${ROUNDS} rounds each, medians:`);
  for (const variant of variants) {
    console.log(`    ${label(variant)}${perSecond(variant.rate)} req/s   p50 ${fmt(variant.p50)} ms   p99 ${fmt(variant.p99)} ms   server CPU ${fmt(variant.cpu, 0)} µs/request`);
  }
  console.log(`    (server CPU is the bench server process's, independent of the machine's load; PostgreSQL's own backends are not in it)`);
  for (const variant of variants.filter((item) => item !== bare)) {
    const ratio = ratioOf(variant);
    const rounds = variant.fast.map((result, i) => fmt(result.requests.average / bare.fast[i].requests.average)).join(", ");
    const target = variant.durable ? `target ≥ ${TARGET_RATIO}×: ${mark(ratio >= TARGET_RATIO)}` : "reference, not stored";
    console.log(`    ratio ${variant.label} / bare ${fmt(ratio)}×   (${target}; rounds: ${rounds})`);
  }
  console.log(`  at ${FIXED_RATE.toLocaleString("en-US")} req/s evenly paced (open loop, latency counted from each request's due time), ${DURATION_S} s × ${ROUNDS} rounds each, medians:`);
  for (const variant of variants) {
    const target = variant.durable ? `   (target p99 < ${TARGET_P99_MS} ms: ${mark(variant.pacedP99 < TARGET_P99_MS)})` : "";
    const rounds = variant.overloaded ? `one round: at most ${Math.round(variant.rate)} req/s as fast as possible, it cannot keep up` : `rounds ${range(variant.paced.map((result) => result.p99))}`;
    console.log(`    ${label(variant)}${perSecond(variant.pacedRate)} req/s   p50 ${fmt(variant.pacedP50)} ms   p99 ${fmt(variant.pacedP99)} ms (${rounds})${target}`);
  }
  console.log(`  at ${FIXED_RATE.toLocaleString("en-US")} req/s by autocannon overallRate (each of ${CONNECTIONS} connections sends its quota at the top of every second: bursts of ${FIXED_RATE.toLocaleString("en-US")}), ${DURATION_S} s:`);
  for (const variant of variants) {
    console.log(`    ${label(variant)}${perSecond(variant.bursts.requests.average)} req/s   p50 ${fmt(variant.bursts.latency.p50)} ms   p99 ${fmt(variant.bursts.latency.p99)} ms`);
  }

  // Every delivery answered 202 is stored exactly once: as many first deliveries as answers the
  // client saw (autocannon may stop before reading the last answers, so the server can have more),
  // no duplicate, one row per delivery id.
  const problems = [];
  for (const variant of variants.filter((item) => item !== bare)) {
    const s = stats[variant.key];
    if (s.duplicates > 0) problems.push(`${variant.key}: ${s.duplicates} deliveries answered as duplicates`);
    if (s.rows !== s.created || s.distinct !== s.rows) problems.push(`${variant.key}: ${s.created} created, ${s.rows} rows, ${s.distinct} distinct delivery ids`);
    if (s.created < variant.answered) problems.push(`${variant.key}: ${variant.answered} answers seen, only ${s.created} deliveries created`);
    const where = variant.durable ? `${s.rows.toLocaleString("en-US")} rows, ${s.distinct.toLocaleString("en-US")} distinct delivery ids` : "in memory";
    console.log(`  deliveries stored by ${variant.label}: ${s.created.toLocaleString("en-US")} created (${where}; ${variant.answered.toLocaleString("en-US")} answers seen by the clients), ${s.duplicates} answered as duplicate`);
  }
  if (problems.length > 0) throw new Error(`stored count check failed:\n  ${problems.join("\n  ")}`);
} finally {
  await servers?.stop();
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
