// `gust serve` with the API wired: on the embedded database it writes <dataDir>/cli-token (0600)
// once, the token works as an admin token, and a job run by the server streams its log to the end
// over SSE. With PostgreSQL no file is written.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { ensureCliToken } from "../../src/main/cli-token";
import { startServer, type RunningServer } from "../../src/main/serve";
import { applyMigrations, loadOrCreateKeyFile, openDatabase, PipelinesStore, RepositoriesStore, Sealer } from "../../src/store";
import { git, tempRepo } from "../helpers/gust-cli";
import { openSse } from "../logs/sse-client";
import { planOf } from "../store/fixtures";

describe("gust serve: API, cli-token and a live log", () => {
  let dataDir: string;
  let repoDir: string;
  let server: RunningServer | undefined;
  let pipelineId: number;
  const go = () => join(dataDir, "go");

  const config = () =>
    loadConfig({
      argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1"],
      env: { GUST_LOG_LEVEL: "silent" },
      readFile: () => {
        throw new Error("no config file");
      },
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-api-serve-"));
    const pipelineFile = `jobs:\n  build:\n    steps:\n      - run: echo before\n      - run: while [ ! -f "${join(dataDir, "go")}" ]; do sleep 0.05; done; echo after\n`;
    repoDir = tempRepo({ ".gust.yml": pipelineFile }, { git: true });
    const sha = git(repoDir, ["rev-parse", "HEAD"]);
    const database = await openDatabase({ dataDir });
    await applyMigrations(database);
    const repositories = new RepositoriesStore(database, new Sealer((await loadOrCreateKeyFile(join(dataDir, "master.key"))).key));
    const repository = await repositories.createRepository({ forge: "local", fullName: repoDir });
    const plan = planOf(pipelineFile.trimEnd().split("\n"), { event: "push", ref: "refs/heads/main", sha, branch: "main" });
    pipelineId = (await new PipelinesStore(database).createPipeline({ repositoryId: repository.id, plan })).id;
    await database.close();
    server = await startServer(config(), pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  it("writes an admin token for the local CLI to <dataDir>/cli-token, readable by its owner only", async () => {
    const path = join(dataDir, "cli-token");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const token = (await readFile(path, "utf8")).trim();
    expect(token).toMatch(/^gust_/);
    const headers = { Authorization: `Bearer ${token}` };
    const tokens = (await (await fetch(`${server!.url}/api/tokens`, { headers })).json()) as { tokens: Array<{ name: string; scopes: string[] }> };
    expect(tokens.tokens).toEqual([expect.objectContaining({ name: "local-cli", scopes: ["admin"] })]);
    const pipelines = (await (await fetch(`${server!.url}/api/pipelines`, { headers })).json()) as { pipelines: Array<{ id: number }> };
    expect(pipelines.pipelines.map((p) => p.id)).toEqual([pipelineId]);
  });

  it("streams the log of a job the server runs until the job finished", async () => {
    const token = (await readFile(join(dataDir, "cli-token"), "utf8")).trim();
    const headers = { Authorization: `Bearer ${token}` };
    let jobId: number | undefined;
    for (let i = 0; i < 300 && jobId === undefined; i++) {
      const detail = (await (await fetch(`${server!.url}/api/pipelines/${pipelineId}`, { headers })).json()) as { jobs: Array<{ id: number; status: string }> };
      jobId = detail.jobs.find((job) => job.status === "running")?.id;
      if (jobId === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(jobId).toBeDefined();
    const stream = await openSse(`${server!.url}/api/jobs/${jobId}/logs/stream`, headers);
    expect(stream.status).toBe(200);
    const texts = () => stream.events.filter((event) => event.event === "line").map((event) => (JSON.parse(event.data) as { text: string }).text);
    await stream.until(() => texts().includes("before"), "the first step's line");
    await writeFile(go(), "");
    await stream.until((c) => c.events.some((event) => event.event === "end"), "the end of the log");
    expect(texts()).toEqual(expect.arrayContaining(["before", "after"]));
    const detail = (await (await fetch(`${server!.url}/api/jobs/${jobId}`, { headers })).json()) as { status: string; steps: Array<{ status: string }> };
    expect(detail).toMatchObject({ status: "success", steps: [{ status: "success" }, { status: "success" }] });
  }, 60_000);

  it("keeps the file and its token across restarts", async () => {
    const path = join(dataDir, "cli-token");
    const before = await readFile(path, "utf8");
    await server!.stop();
    server = await startServer(config(), pino({ level: "silent" }));
    expect(await readFile(path, "utf8")).toBe(before);
    const tokens = (await (await fetch(`${server.url}/api/tokens`, { headers: { Authorization: `Bearer ${before.trim()}` } })).json()) as { tokens: unknown[] };
    expect(tokens.tokens).toHaveLength(1);
  }, 60_000);

  it("writes nothing with PostgreSQL", async () => {
    const dir = await mkdtemp(join(tmpdir(), "gust-cli-token-"));
    try {
      const created: unknown[] = [];
      const result = await ensureCliToken({ dataDir: dir, databaseUrl: "postgres://gust@db.example/gust" }, {
        createToken: async (input) => {
          created.push(input);
          throw new Error("no token should be created");
        },
        revokeToken: async () => false,
      });
      expect(result).toEqual({ written: false, reason: "external_database" });
      expect(created).toEqual([]);
      expect(existsSync(join(dir, "cli-token"))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
