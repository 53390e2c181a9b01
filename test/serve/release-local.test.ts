// `gust serve` end to end, releases to the local target: signed push webhooks → the build job
// makes an artifact → the release publishes it as a version behind the local router and moves real
// HTTP traffic onto it through a canary judged by analysis. A healthy version is promoted, a bad one
// rolled back by itself, and a release paused for a person survives a restart of Gust and is
// promoted through the API. The forge gets a "release" check with the result.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { openDatabase } from "../../src/store";
import { jobs, pipelines, releaseEvents, releases } from "../../src/store/schema";
import { tempRepo } from "../helpers/gust-cli";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { freePort } from "../helpers/serve-process";
import { ReleaseRepo, until } from "../helpers/release-repo";
import { GithubApiStandIn } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-release-test";
const TOKEN = "ghp_releasetesttoken0000000000000000000000";

/** The app: answers with its label, or 500 when built "bad"; /health is always fine. */
const APP = `const http = require("node:http");
const fs = require("node:fs");
const label = fs.readFileSync(__dirname + "/label", "utf8").trim();
http.createServer((req, res) => {
  if (req.url === "/health") return res.end("ok");
  if (label.startsWith("bad")) { res.statusCode = 500; return res.end("broken " + label); }
  res.end(label);
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

function pipelineFile(port: number, steps: string): string {
  return `on: {push: {branches: [main]}}
jobs:
  build:
    steps:
      - run: mkdir -p dist && cp app.js label dist/
    artifacts: {paths: [dist]}
release:
  artifact: {from: build, path: dist}
  target: {type: local, command: node app.js, port: ${port}, health-path: /health}
  strategy:
    steps:
${steps}
  analysis:
    interval: 1s
    min-requests: 5
    inconclusive-limit: 10
    metrics:
      - {name: error-rate, max: 5%}
`;
}

const CANARY = `      - weight: 25
      - analysis: {duration: 2s}
      - weight: 60
      - analysis: {duration: 2s}`;
const PAUSED = `      - weight: 30
      - pause: {}`;

/** Requests the router without pause, counting answers per body; stop() resolves the tallies. */
function trafficLoop(port: number) {
  const tally = new Map<string, number>();
  let failures = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`);
        const body = await response.text();
        const key = `${response.status} ${body}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      } catch {
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  };
  const workers = [worker(), worker(), worker()];
  return {
    tally,
    reset: () => tally.clear(),
    async stop() {
      running = false;
      await Promise.all(workers);
      return { tally: new Map(tally), failures };
    },
  };
}

describe("gust serve: releases to the local target", () => {
  let dataDir: string;
  let standIn: GithubApiStandIn;
  let server: RunningServer | undefined;
  let repoDir: string;
  let port: number;
  let repo: ReleaseRepo;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-release-"));
    port = await freePort();
    repoDir = tempRepo({ "app.js": APP, label: "v1\n", ".gust.yml": pipelineFile(port, CANARY) }, { git: true });
    standIn = await GithubApiStandIn.start();
    repo = new ReleaseRepo(repoDir, standIn.addRepository("acme/app"), standIn, WEBHOOK_SECRET);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: standIn.baseUrl, cloneUrl: repoDir, token: TOKEN });
    server = await startServer(serveConfig(dataDir, { env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET } }), pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  const push = (label: string, steps = CANARY) => repo.push(server!.url, { label: `${label}\n`, ".gust.yml": pipelineFile(port, steps) });
  const completed = (sha: string) => repo.completed(sha);

  it("gives the first version all traffic at once", async () => {
    const first = await push("v1");
    const check = await completed(first);
    expect(check.conclusion).toBe("success");
    expect(check.output.summary ?? "").toMatch(/promoted/);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("v1");
  }, 120_000);

  it("promotes a healthy version through the canary with analysis, dropping no request", async () => {
    const traffic = trafficLoop(port);
    const sha = await push("v2");
    const check = await completed(sha);
    const { tally, failures } = await traffic.stop();
    expect(check.conclusion).toBe("success");
    expect(failures).toBe(0);
    expect([...tally.keys()].sort()).toEqual(["200 v1", "200 v2"]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("v2");
  }, 120_000);

  it("rolls a failing version back by itself: traffic returns to the stable version", async () => {
    const traffic = trafficLoop(port);
    const sha = await push("bad-v3");
    const check = await completed(sha);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary ?? "").toMatch(/rolled-back: analysis failed once \(error-rate 100% \\?> max 5%\)/);
    // Once rolled back, every request reaches the stable version.
    traffic.reset();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { tally, failures } = await traffic.stop();
    expect(failures).toBe(0);
    expect([...tally.keys()]).toEqual(["200 v2"]);
  }, 120_000);

  it("keeps a paused release across a restart of Gust and promotes it on command", async () => {
    const sha = await push("v4", PAUSED);
    await until("the release to pause", () => (repo.releaseCheck(sha)?.output.summary ?? "").includes("paused"));
    await server!.stop();
    server = undefined;
    // The router is down with Gust; it comes back with the same split when Gust starts again.
    server = await startServer(serveConfig(dataDir, { env: { GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET } }), pino({ level: "silent" }));
    const traffic = trafficLoop(port);
    await until("requests to both versions", () => (traffic.tally.get("200 v4") ?? 0) > 20 && (traffic.tally.get("200 v2") ?? 0) > 20);
    const token = (await readFile(join(dataDir, "cli-token"), "utf8").catch(() => "")).trim();
    const listed = (await (await fetch(`${server!.url}/api/releases?active=true`, { headers: { authorization: `Bearer ${token}` } })).json()) as { releases: Array<{ id: number; phase: string }> };
    const [release] = listed.releases;
    expect(release).toMatchObject({ phase: "paused" });
    const promoted = await fetch(`${server!.url}/api/releases/${release!.id}/promote`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(promoted.status).toBe(202);
    const check = await completed(sha);
    const { failures } = await traffic.stop();
    expect(check.conclusion).toBe("success");
    expect(failures).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("v4");
  }, 180_000);

  it("recorded every release with its history, and each pipeline waited for its release", async () => {
    await server!.stop();
    server = undefined;
    const database = await openDatabase({ dataDir });
    try {
      const rows = await database.db.select().from(releases).orderBy(asc(releases.id));
      expect(rows.map((row) => [row.phase, row.version])).toEqual([
        ["promoted", "1"],
        ["promoted", "2"],
        ["rolled-back", "3"],
        ["promoted", "4"],
      ]);
      const statuses = await database.db.select({ status: pipelines.status }).from(pipelines).orderBy(asc(pipelines.id));
      expect(statuses.map((row) => row.status)).toEqual(["success", "success", "failure", "success"]);
      const history = await database.db.select().from(releaseEvents).where(eq(releaseEvents.releaseId, rows[2]!.id)).orderBy(asc(releaseEvents.id));
      expect(history.map((event) => event.toPhase)).toEqual(["progressing", "rolling-back", "rolled-back"]);
      const releaseJobs = await database.db.select({ key: jobs.key, status: jobs.status }).from(jobs).where(eq(jobs.kind, "release")).orderBy(asc(jobs.id));
      expect(releaseJobs.map((job) => job.status)).toEqual(["success", "success", "failure", "success"]);
    } finally {
      await database.close();
    }
  }, 60_000);
});
