// Webhook → first step running: `gust serve` (startServer, bundled from the sources, in a child
// process; local executor) gets signed GitHub push webhooks one at a time; the pipeline file is read
// through octokit from the GitHub API stand-in (test/stand-ins) running in this process, and the
// job's only step writes `date +%s%N` to a file named after its run. This process learns of the
// file through fs.watch (no polling) and reports (the step's clock − the moment the webhook was
// sent), with a breakdown from the database rows' timestamps, against the same command started by
// child_process.spawn from here. The next webhook goes once the job's workspace is removed (the
// job's last act, also seen through fs.watch), so runs never overlap.
// PGlite always; PostgreSQL too with BENCH_DATABASE_URL or TEST_DATABASE_URL (a scratch database).
// BENCH_PIPELINES sets how many webhooks are measured (default 60, after 5 warm-up ones).
import { fork, spawn, execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync, existsSync, readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { bundleEntries } from "./lib/bundle.mjs";
import { benchDatabaseUrl, createScratchDatabase } from "./lib/scratch-database.mjs";
import { fmt, mark, median, summarize, wallMs } from "./lib/stats.mjs";

const require = createRequire(import.meta.url);
const MEASURED = Number(process.env.BENCH_PIPELINES ?? 60);
const WARM_UP = 5;
const TARGET_P50_MS = 50;
const WAIT_MS = 30_000;
const SECRET = "bench-pipeline-start-secret";
const TOKEN = "ghp_benchpipelinestart000000000000000000";
const REPO = "bench/app";

const LIB_ENTRY = `
export { GithubApiStandIn } from "./test/stand-ins/github-api";
export { applyMigrations, openDatabase, RepositoriesStore, Sealer } from "./src/store";
export { rowsOf } from "./src/store/transaction";
export { DatabaseLogStore } from "./src/logs/database-log-store";
export { sql } from "drizzle-orm";
`;

// The server gets its settings over IPC, not in its environment: the steps inherit that.
const SERVER_ENTRY = `
import pino from "pino";
import { loadConfig } from "./src/config";
import { startServer } from "./src/main/serve";

process.once("message", async ({ argv, env }) => {
  const config = loadConfig({ argv, env, readFile: () => { throw new Error("no config file"); } });
  const server = await startServer(config, pino({ level: "warn" }, pino.destination(2)));
  process.send({ url: server.url });
  process.once("message", async () => {
    await server.stop();
    process.exit(0);
  });
});
`;

const git = (cwd, args) => execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", ...args], { cwd, encoding: "utf8" }).trim();

/** A git repository whose one commit has a pipeline of one job whose first step marks its start. */
function createRepository(marksDir) {
  const dir = mkdtempSync(join(tmpdir(), "gust-bench-start-repo-"));
  const files = {
    ".gust.yml": `on: {push: {branches: [main]}}\njobs:\n  start:\n    steps:\n      - name: mark\n        run: 'date +%s%N > "${marksDir}/$GUST_RUN_ID"'\n`,
    "README.md": "bench\n",
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  git(dir, ["init", "-q", "-b", "main"]);
  git(dir, ["add", "."]);
  git(dir, ["commit", "-q", "-m", "bench"]);
  return { dir, files, sha: git(dir, ["rev-parse", "HEAD"]) };
}

function pushBody(sha, cloneUrl) {
  const example = structuredClone(require("@octokit/webhooks-examples").find((d) => d.name === "push").examples[0]);
  const [owner, name] = REPO.split("/");
  Object.assign(example, { ref: "refs/heads/main", after: sha, before: "0".repeat(40), created: true, deleted: false });
  example.head_commit = { ...(example.head_commit ?? {}), id: sha };
  example.repository = { ...example.repository, full_name: REPO, name, owner: { ...example.repository.owner, login: owner, name: owner }, default_branch: "main", clone_url: cloneUrl };
  return JSON.stringify(example);
}

/** Files appearing in `dir` with a whole `date +%s%N` line in them, in order, as the step's clock in ms. */
function watchMarks(dir) {
  const seen = new Set();
  const ready = [];
  let waiter;
  const watcher = watch(dir, (_event, name) => {
    if (!name || seen.has(name)) return;
    let text;
    try {
      text = readFileSync(join(dir, name), "utf8");
    } catch {
      return;
    }
    if (!/^\d+\n$/.test(text)) return; // created, not written yet: the write's own event follows
    seen.add(name);
    const found = { name, at: Number(BigInt(text.trim()) / 1000n) / 1000 };
    if (waiter) waiter(found);
    else ready.push(found);
  });
  return {
    next: () => (ready.length > 0 ? Promise.resolve(ready.shift()) : new Promise((resolve) => (waiter = (found) => ((waiter = undefined), resolve(found))))),
    close: () => watcher.close(),
  };
}

/** Resolves when the entry `name` of `dir` is gone (a job's workspace, removed at its cleanup). */
function removed(dir, name) {
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (!existsSync(join(dir, name))) (watcher.close(), resolve());
    });
    if (!existsSync(join(dir, name))) (watcher.close(), resolve());
  });
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS / 1000} s`)), WAIT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the moment the 202 arrived; `signature` is computed beforehand, like GitHub does. */
function post(url, body, signature, delivery) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/hooks/github`,
      { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-github-event": "push", "x-github-delivery": delivery, "x-hub-signature-256": signature } },
      (response) => {
        const answered = wallMs();
        response.resume();
        response.on("end", () => (response.statusCode === 202 ? resolve(answered) : reject(new Error(`webhook answered ${response.statusCode}`))));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

async function startServe(file, config) {
  const child = fork(file, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const { url } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`gust serve exited with ${code} before it was ready`)));
    child.send(config);
  });
  return { url, stop: () => (child.exitCode === null && child.send("stop"), exited) };
}

/** One database: register the repository, start the server, send the webhooks, read the rows. */
async function measure(lib, serverFile, setup, database) {
  const { dataDir, marksDir, repository, standIn, key } = setup;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(dataDir, "work"), { recursive: true });
  for (const name of readdirSync(marksDir)) rmSync(join(marksDir, name));

  const open = () => lib.openDatabase(database.url ? { url: database.url } : { dataDir });
  const registering = await open();
  await lib.applyMigrations(registering);
  const repositories = new lib.RepositoriesStore(registering, new lib.Sealer(key));
  const created = await repositories.createRepository({ forge: "github", fullName: REPO, apiUrl: standIn.baseUrl, settings: { cloneUrl: repository.dir } });
  await repositories.setCredentials(created.id, { token: TOKEN });
  await registering.close();

  const env = { GUST_GITHUB_WEBHOOK_SECRETS: SECRET, GUST_MASTER_KEY: key.toString("hex"), GUST_LOG_LEVEL: "warn", ...(database.url ? { GUST_DATABASE_URL: database.url } : {}) };
  const server = await startServe(serverFile, { argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1"], env });
  const marks = watchMarks(marksDir);
  const body = pushBody(repository.sha, repository.dir);
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  const runs = [];
  const requestsBefore = standIn.requests.length;
  try {
    for (let i = 0; i < WARM_UP + MEASURED; i++) {
      const delivery = `start-${process.pid}-${database.key}-${i}`;
      const sent = wallMs();
      const answered = await post(server.url, body, signature, delivery);
      const step = await within(marks.next(), `first step for delivery ${delivery}`);
      await within(removed(join(dataDir, "work"), step.name), `end of job run ${step.name}`);
      if (i >= WARM_UP) runs.push({ delivery, runId: step.name, sent, answered, shell: step.at });
    }
  } finally {
    marks.close();
    await server.stop();
  }
  const apiRequests = requestKinds(standIn.requests.slice(requestsBefore), WARM_UP + MEASURED);

  // The rows' own clocks: now() of each transaction (the same machine's clock), the executor's step start.
  const reading = await open();
  try {
    const rows = await lib.rowsOf(
      reading.db,
      lib.sql`select d.delivery_id, j.id as job_id, j.run_id, p.status as pipeline, j.status as job,
                     extract(epoch from d.received_at) * 1000 as received, extract(epoch from p.created_at) * 1000 as created,
                     extract(epoch from j.started_at) * 1000 as leased, extract(epoch from s.started_at) * 1000 as started
                from deliveries d join pipelines p on p.delivery_id = d.id join jobs j on j.pipeline_id = p.id
                left join steps s on s.job_id = j.id and s.index = 0`,
    );
    const byDelivery = new Map(rows.map((row) => [row.delivery_id, row]));
    const logs = new lib.DatabaseLogStore(reading.db);
    for (const run of runs) {
      const row = byDelivery.get(run.delivery);
      if (!row) throw new Error(`delivery ${run.delivery}: no pipeline stored`);
      if (row.pipeline !== "success" || row.job !== "success") throw new Error(`delivery ${run.delivery}: pipeline ${row.pipeline}, job ${row.job}`);
      if (row.run_id !== run.runId) throw new Error(`delivery ${run.delivery}: its job ran as ${row.run_id}, the mark came from ${run.runId}`);
      Object.assign(run, { received: Number(row.received), created: Number(row.created), leased: Number(row.leased), ...checkedOut(await logs.read(Number(row.job_id), { afterLine: 0, limit: 100 })), started: Number(row.started) });
    }
  } finally {
    await reading.close();
  }
  return { runs, apiRequests };
}

/** When the executor's clone began and ended, from its "workspace: checked out … in N ms" log line (if it says so). */
function checkedOut(lines) {
  const line = lines.find((item) => item.stream === "system" && item.text.startsWith("workspace: checked out"));
  const took = Number(/ in (\d+) ms/.exec(line?.text ?? "")?.[1]);
  return line && Number.isFinite(took) ? { cloning: line.at - took, cloned: line.at } : {};
}

/** The stand-in's requests by kind, per webhook: `GET git/trees/:sha` → 1. */
function requestKinds(requests, webhooks) {
  const kinds = new Map();
  for (const request of requests) {
    const kind = `${request.method} ${request.rawPath.replace(/^\/api\/v3\/repos\/[^/]+\/[^/]+\//, "").replace(/[0-9a-f]{40}/g, ":sha").replace(/\/\d+$/, "/:id")}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([kind, count]) => `${kind} ×${fmt(count / webhooks, 1)}`).join(", ");
}

/** The same command started by a bare spawn from here, one at a time. */
async function baseline(marksDir, count) {
  const samples = [];
  for (let i = 0; i < WARM_UP + count; i++) {
    const file = join(marksDir, `baseline-${i}`);
    const started = wallMs();
    const child = spawn("sh", ["-c", `date +%s%N > "${file}"`], { stdio: "ignore" });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`baseline command exited with ${code}`);
    if (i >= WARM_UP) samples.push(Number(BigInt(readFileSync(file, "utf8").trim()) / 1000n) / 1000 - started);
  }
  return summarize(samples);
}

function report(name, { runs, apiRequests }, base) {
  const from = (field) => summarize(runs.map((run) => run[field] - run.sent));
  const line = (label, s, extra = "") => console.log(`    ${label.padEnd(44)} p50 ${fmt(s.p50, 1).padStart(6)}   p99 ${fmt(s.p99, 1).padStart(6)}   max ${fmt(s.max, 1).padStart(6)} ms${extra}`);
  const step = (a, b) => median(runs.map((run) => run[b] - run[a]));
  console.log(`  ${name}: ${runs.length} webhooks one at a time, ms after the webhook was sent; GitHub API requests per webhook: ${apiRequests}`);
  line("delivery row inserted (received_at)", from("received"));
  line("202 answered", from("answered"));
  line("pipeline transaction began (created_at)", from("created"), `   (+${fmt(step("answered", "created"), 1)} after the 202: worker, forge reads, plan)`);
  line("job leased (jobs.started_at)", from("leased"), `   (+${fmt(step("created", "leased"), 1)}: NOTIFY, dispatcher lease)`);
  if (runs.every((run) => Number.isFinite(run.cloning))) {
    line("workspace clone began (job log)", from("cloning"), `   (+${fmt(step("leased", "cloning"), 1)}: job context, executor start)`);
    line("workspace checked out (job log)", from("cloned"), `   (+${fmt(step("cloning", "cloned"), 1)}: .git linked to the source objects, git read-tree)`);
    line("step started, per the executor", from("started"), `   (+${fmt(step("cloned", "started"), 1)})`);
  } else {
    line("step started, per the executor", from("started"), `   (+${fmt(step("leased", "started"), 1)}: job context, executor start, workspace)`);
  }
  const shell = from("shell");
  line("first step's shell running (its `date`)", shell, `   (+${fmt(step("started", "shell"), 1)}: step file, launcher, sh, date)   target p50 < ${TARGET_P50_MS} ms: ${mark(shell.p50 < TARGET_P50_MS)}`);
  console.log(`    → the same command by spawn('sh', ['-c', …]) from the bench: p50 ${fmt(base.p50, 1)}   p99 ${fmt(base.p99, 1)}   max ${fmt(base.max, 1)} ms; gust adds ${fmt(shell.p50 - base.p50, 1)} ms at p50`);
}

const work = mkdtempSync(join(tmpdir(), "gust-bench-start-"));
const marksDir = join(work, "marks");
mkdirSync(marksDir);
const bundle = await bundleEntries("pipeline-start", { lib: LIB_ENTRY, server: SERVER_ENTRY });
const repository = createRepository(marksDir);
let standIn;
try {
  const lib = await import(bundle.files.lib);
  standIn = await lib.GithubApiStandIn.start();
  standIn.addRepository(REPO).commit(repository.files, undefined, repository.sha);
  standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write", pull_requests: "read" });
  const setup = { dataDir: join(work, "data"), marksDir, repository, standIn, key: randomBytes(32) };

  const loadBefore = loadavg()[0];
  console.log(`pipeline start: signed GitHub push → first step's shell running, local executor, one job of one step (${cpus().length} CPUs, load average ${fmt(loadBefore)})`);
  const base = await baseline(marksDir, MEASURED);
  const databases = [{ key: "pglite", name: "PGlite (file)" }];
  const postgresUrl = benchDatabaseUrl();
  if (postgresUrl) databases.push({ key: "postgres", name: "PostgreSQL", scratch: await createScratchDatabase(postgresUrl, "gust_bench_start") });
  for (const database of databases) {
    try {
      report(database.name, await measure(lib, bundle.files.server, setup, { key: database.key, url: database.scratch?.url }), base);
    } finally {
      await database.scratch?.drop();
    }
  }
  console.log(`  load average ${fmt(loadavg()[0])} at the end; figures on a busy machine are pessimistic`);
} finally {
  await standIn?.close();
  bundle.remove();
  rmSync(work, { recursive: true, force: true });
  rmSync(repository.dir, { recursive: true, force: true });
}
