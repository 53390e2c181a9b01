// Job logs: throughput from a producer through JobLogWriter (masking, batching) into the database
// store, against the same bytes appended to a file with fs.appendFile in the same batches; and the
// latency from a line written to its SSE event reaching a client over HTTP, at a steady rate.
// PGlite always (file-backed, as `gust serve` keeps it, and in memory); PostgreSQL too when
// TEST_DATABASE_URL is set. src/ is TypeScript: the modules are bundled with esbuild at run time.
//
// Beside MB/s, each throughput run prints the CPU it took per MB (this process, and its main thread
// alone: deflating runs on libuv's pool; PostgreSQL's own work is not counted) and how far memory
// rose above where it started: on a machine shared with other work the CPU figures move less than
// the MB/s, and the memory figure shows whether it stays flat whatever the log size.
import { appendFile, mkdtemp as mkdtempAsync } from "node:fs/promises";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import pg from "pg";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const root = fileURLToPath(new URL("..", import.meta.url));
const THROUGHPUT_MB = Number(process.env.LOGS_BENCH_MB ?? 200);
const LATENCY_RATE = 500; // lines per second
const LATENCY_SECONDS = 6;
const TARGET_MBPS = 100;
const TARGET_P99_MS = 100;
const SECRETS = ["hunter2-hunter2", "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "s3cr3t-t0k3n-value"];

// --- build ----------------------------------------------------------------------------------------
// Inside node_modules/.cache so that the bundle's bare imports (drizzle-orm, hono) resolve.
const cache = join(root, "node_modules", ".cache");
mkdirSync(cache, { recursive: true });
const buildDir = mkdtempSync(join(cache, "gust-bench-logs-"));
const bundle = join(buildDir, "logs.mjs");
await build({
  stdin: {
    contents: [
      'export { JobLogWriter } from "./src/logs/job-log-writer";',
      'export { DatabaseLogStore } from "./src/logs/database-log-store";',
      'export { LogHub } from "./src/logs/log-hub";',
      'export { logStreamHandler } from "./src/logs/sse";',
      'export { openDatabase } from "./src/store/database";',
      'export { applyMigrations } from "./src/store/migrate";',
    ].join("\n"),
    resolveDir: root,
    loader: "ts",
  },
  outfile: bundle,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
const { JobLogWriter, DatabaseLogStore, LogHub, logStreamHandler, openDatabase, applyMigrations } = await import(pathToFileURL(bundle).href);

// --- data -----------------------------------------------------------------------------------------
/** Build-output-like lines, 20–200 characters, a few with a secret in them. */
function linePool() {
  const words = ["compiling", "src/app/index.ts", "warning:", "npm", "ok", "PASS", "test/unit.spec.ts", "(12 ms)", "✓", "→", "[=====>    ]", "deprecated", "info", "building"];
  let seed = 7;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pool = [];
  for (let i = 0; i < 4096; i++) {
    const target = 20 + random(181);
    let text = "";
    while (text.length < target) text += (text ? " " : "") + words[random(words.length)];
    if (i % 97 === 0) text += ` token=${SECRETS[random(SECRETS.length)]}`;
    pool.push(text.slice(0, 200));
  }
  return pool;
}
const pool = linePool();
const poolBytes = pool.map((text) => Buffer.byteLength(text) + 1);
const totalBytes = THROUGHPUT_MB * 1024 * 1024;

/** Calls `line(text)` for the lines of the run (awaiting it when it returns a promise). */
async function produce(line) {
  let bytes = 0;
  for (let i = 0; bytes < totalBytes; i++) {
    const k = i & 4095;
    bytes += poolBytes[k];
    const wait = line(pool[k]);
    if (wait) await wait;
  }
  return bytes;
}

// --- databases ------------------------------------------------------------------------------------
async function createJobs(database, count) {
  const query = async (text, params) => (database.kind === "pglite" ? await database.client.query(text, params) : await database.pool.query(text, params)).rows;
  const name = `bench-logs-${process.pid}-${Date.now()}`;
  const repository = (await query(`insert into repositories (forge, full_name) values ('local', $1) returning id`, [name]))[0].id;
  const pipeline = (
    await query(`insert into pipelines (repository_id, number, name, file, event, ref, sha) values ($1, 1, 'bench', '.gust.yml', 'push', 'main', 'x') returning id`, [repository])
  )[0].id;
  const ids = [];
  for (let i = 0; i < count; i++) {
    ids.push(Number((await query(`insert into jobs (pipeline_id, repository_id, key, name, spec) values ($1, $2, $3, $3, '{}') returning id`, [pipeline, repository, `job-${i}`]))[0].id));
  }
  return ids;
}

async function openPglite(dataDir) {
  const database = await openDatabase({ dataDir: dataDir ?? ":memory:" });
  await applyMigrations(database, { migrationsFolder: join(root, "migrations") });
  return { name: dataDir ? "PGlite (file)" : "PGlite (memory)", database, close: () => database.close() };
}

/** A database of its own on the server at `url`, dropped afterwards. */
async function openPostgres(url) {
  const name = `gust_bench_logs_${process.pid}`;
  const admin = async (statement) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists ${name}`);
  await admin(`create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const database = await openDatabase({ url: target.toString() });
  await applyMigrations(database, { migrationsFolder: join(root, "migrations") });
  return {
    name: "PostgreSQL",
    database,
    close: async () => {
      await database.close();
      await admin(`drop database if exists ${name}`);
    },
  };
}

// --- throughput -----------------------------------------------------------------------------------
/** CPU milliseconds of this process's main thread (Linux), or null. */
function mainThreadCpuMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in ticks of 10 ms
  } catch {
    return null;
  }
}

function processCpuMs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Memory the process holds: V8 heap and buffers outside it (resident size also counts freed pages not yet returned). */
function memoryInUse() {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

async function throughputGust(sink) {
  const writer = new JobLogWriter(1, sink, { secrets: SECRETS, maxBytes: Number.POSITIVE_INFINITY });
  const startMemory = memoryInUse();
  let peakMemory = startMemory;
  const sampler = setInterval(() => (peakMemory = Math.max(peakMemory, memoryInUse())), 20);
  const startCpu = processCpuMs();
  const startMain = mainThreadCpuMs();
  const start = performance.now();
  let at = Date.now();
  let n = 0;
  await produce((text) => {
    if ((++n & 1023) === 0) at = Date.now();
    return writer.write({ at, attempt: 1, step: 0, stream: "stdout", text }) ? null : writer.drain();
  });
  const stats = await writer.close();
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  const mb = stats.bytes / 1024 / 1024;
  const main = mainThreadCpuMs();
  return {
    mbps: mb / seconds,
    lines: stats.lines,
    bytes: stats.bytes,
    seconds,
    cpuPerMb: (processCpuMs() - startCpu) / mb,
    mainPerMb: main === null || startMain === null ? null : (main - startMain) / mb,
    peakMemoryMb: (peakMemory - startMemory) / 1024 / 1024,
  };
}

function cpuFigures(result) {
  const main = result.mainPerMb === null ? "" : `, main thread ${fmt(result.mainPerMb)}`;
  return `CPU ${fmt(result.cpuPerMb)} ms/MB${main}; memory peak +${fmt(result.peakMemoryMb, 0)} MB`;
}

/** The same bytes, batched the same way (256 KiB, one append in flight), into a plain file. */
async function throughputFile() {
  const dir = await mkdtempAsync(join(tmpdir(), "gust-bench-logs-file-"));
  const file = join(dir, "job.log");
  const start = performance.now();
  let batch = [];
  let batchBytes = 0;
  let written = 0;
  let inFlight = Promise.resolve();
  await produce((text) => {
    batch.push(text);
    batchBytes += Buffer.byteLength(text) + 1;
    if (batchBytes < 256 * 1024) return null;
    const body = batch.join("\n") + "\n";
    written += batchBytes;
    batch = [];
    batchBytes = 0;
    return inFlight.then(() => (inFlight = appendFile(file, body)));
  });
  await inFlight;
  if (batch.length) {
    await appendFile(file, batch.join("\n") + "\n");
    written += batchBytes;
  }
  const seconds = (performance.now() - start) / 1000;
  rmSync(dir, { recursive: true, force: true });
  return { mbps: written / 1024 / 1024 / seconds, seconds };
}

/** Lets throughputGust write to job 1 whatever the real job id is. */
class SingleJob {
  constructor(store, jobId) {
    this.store = store;
    this.jobId = jobId;
  }
  append(_jobId, lines) {
    return this.store.append(this.jobId, lines);
  }
}

// --- latency --------------------------------------------------------------------------------------
async function latency(database, jobId) {
  const store = new DatabaseLogStore(database.db);
  const hub = new LogHub({ store });
  const app = new Hono();
  app.get("/api/jobs/:id/logs/stream", logStreamHandler({ hub, jobState: async () => ({ finished: false }) }));
  const server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const port = server.address().port;
  const samples = [];
  const expected = LATENCY_RATE * LATENCY_SECONDS;
  let received = 0;
  const done = new Promise((resolve, reject) => {
    const req = request(`http://127.0.0.1:${port}/api/jobs/${jobId}/logs/stream`, { headers: { Accept: "text/event-stream" } }, (res) => {
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk) => {
        const now = performance.now();
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((field) => field.startsWith("data: "));
          if (!data || !block.includes("event: line")) continue;
          const sent = Number(JSON.parse(data.slice(6)).text.split(" ")[1]);
          samples.push(now - sent);
          if (++received === expected) {
            req.destroy();
            resolve();
          }
        }
      });
    });
    req.on("error", (error) => (error.code === "ECONNRESET" ? resolve() : reject(error)));
    req.end();
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // connected and subscribed
  const writer = new JobLogWriter(jobId, hub, { secrets: SECRETS });
  const perTick = LATENCY_RATE / 100;
  const start = performance.now();
  for (let tick = 0; tick < LATENCY_SECONDS * 100; tick++) {
    const due = start + tick * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let i = 0; i < perTick; i++) writer.write({ at: Date.now(), attempt: 1, step: 0, stream: "stdout", text: `line ${performance.now()} ${pool[i]}` });
  }
  await writer.close();
  await done;
  await hub.close();
  await new Promise((resolve) => server.close(resolve));
  samples.sort((a, b) => a - b);
  const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: pick(0.5), p99: pick(0.99), max: samples[samples.length - 1], count: samples.length };
}

// --- run ------------------------------------------------------------------------------------------
const fmt = (n, digits = 1) => n.toFixed(digits);
const pgliteDir = mkdtempSync(join(tmpdir(), "gust-bench-pglite-"));
try {
  const load = loadavg().map((n) => n.toFixed(1)).join(" ");
  console.log(`job logs: ${THROUGHPUT_MB} MB of 20–200 character lines, ${SECRETS.length} secrets masked  (${cpus().length} CPUs, load average ${load})`);
  const baseline = await throughputFile();
  console.log(`  baseline: fs.appendFile, 256 KiB batches, one in flight:  ${fmt(baseline.mbps)} MB/s`);
  const discarding = { append: async (_jobId, batch) => ({ firstLine: 1, lastLine: batch.length }) };
  const alone = await throughputGust(discarding);
  console.log(`  JobLogWriter alone (masking, cutting, batching) → no store:  ${fmt(alone.mbps)} MB/s  (${cpuFigures(alone)})`);
  const databases = [() => openPglite(pgliteDir), () => openPglite(null)];
  if (process.env.TEST_DATABASE_URL) databases.push(() => openPostgres(process.env.TEST_DATABASE_URL));
  for (const open of databases) {
    const database = await open();
    try {
      const ids = await createJobs(database.database, 2);
      const result = await throughputGust(new SingleJob(new DatabaseLogStore(database.database.db), ids[0]));
      console.log(
        `  ${database.name.padEnd(16)} JobLogWriter → DatabaseLogStore: ${fmt(result.mbps)} MB/s  (${result.lines} lines in ${fmt(result.seconds, 2)} s; ` +
          `ratio to baseline ${fmt(result.mbps / baseline.mbps, 2)}×; target ≥ ${TARGET_MBPS} MB/s; ${cpuFigures(result)})`,
      );
      const lat = await latency(database.database, ids[1]);
      console.log(
        `  ${database.name.padEnd(16)} line → SSE client at ${LATENCY_RATE} lines/s: p50 ${fmt(lat.p50)} ms, p99 ${fmt(lat.p99)} ms, max ${fmt(lat.max)} ms  ` +
          `(${lat.count} lines; target p99 < ${TARGET_P99_MS} ms)`,
      );
    } finally {
      await database.close();
    }
  }
} finally {
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(pgliteDir, { recursive: true, force: true });
}
