// The API commands of the built `gust` against the real server, in process, on its embedded
// database (and on PostgreSQL with TEST_DATABASE_URL): a local git repository with a manual trigger
// is registered, a token created, and `gust trigger --follow`, `gust pipelines`, `gust pipeline`,
// `gust logs` and `gust cancel` run.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { startServer, type RunningServer } from "../../src/main/serve";
import { ApiTokensStore, applyMigrations, openDatabase, RepositoriesStore, Sealer } from "../../src/store";
import { DATABASE_KINDS, scratchPostgres } from "../helpers/database";
import { gust, tempRepo } from "../helpers/gust-cli";

const PIPELINE = `on:
  push: {branches: [main]}
  manual:
    inputs:
      who: {type: string, default: world}
      loud: {type: boolean}
jobs:
  build:
    steps:
      - name: greet
        run: echo "hello \${{ inputs.who }}"
      - name: warn
        run: echo "careful now" >&2
  check:
    needs: build
    steps:
      - name: verify
        run: echo "loud is \${{ inputs.loud }}"
`;

describe.each(DATABASE_KINDS)("gust trigger, pipelines, logs against gust serve (%s)", (kind) => {
  let dataDir: string;
  let repoDir: string;
  let server: RunningServer | undefined;
  let postgres: Awaited<ReturnType<typeof scratchPostgres>> | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-api-e2e-"));
    repoDir = tempRepo({ ".gust.yml": PIPELINE, "README.md": "e2e\n" }, { git: true });
    postgres = kind === "postgres" ? await scratchPostgres() : undefined;
    const masterKey = randomBytes(32);

    // Registered and given a token before the server opens the embedded database (one process at a time).
    const database = await openDatabase(postgres ? { url: postgres.url } : { dataDir });
    await applyMigrations(database);
    const repositories = new RepositoriesStore(database, new Sealer(masterKey));
    await repositories.createRepository({ forge: "local", fullName: repoDir, apiUrl: null });
    const { token } = await new ApiTokensStore(database).createToken({ name: "e2e", scopes: ["write"] });
    await database.close();

    const config = loadConfig({
      argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1"],
      env: { GUST_LOG_LEVEL: "silent", GUST_MASTER_KEY: masterKey.toString("base64"), ...(postgres ? { GUST_DATABASE_URL: postgres.url } : {}) },
      readFile: () => {
        throw new Error("no config file");
      },
    });
    server = await startServer(config, pino({ level: "silent" }));
    env = { GUST_SERVER: server.url, GUST_TOKEN: token, GUST_DATA_DIR: "" };
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await postgres?.drop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  it("triggers with inputs and follows the jobs to the end, then lists, shows and prints the pipeline", async () => {
    const triggered = await gust(["trigger", repoDir, "--input", "who=gust", "--input", "loud=true", "--follow"], { env });
    expect(triggered.code, triggered.stdout + triggered.stderr).toBe(0);
    const out = triggered.stdout;
    expect(out).toMatch(new RegExp(`^✔ triggered ${repoDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} at main \\([0-9a-f]{7}\\)$`, "m"));
    const id = /^ {2}#1 \S+ {2}\S+ \S+ {2}id (\d+)$/m.exec(out)?.[1];
    expect(id, out).toBeDefined();
    for (const line of ["build greet │ hello gust", "build warn ! careful now", "check verify │ loud is true"]) {
      expect(out.split("\n").filter((printed) => printed.replace(/ +/g, " ") === line), `${line}\n${out}`).toHaveLength(1);
    }
    expect(out).toMatch(/^build +✔ job succeeded/m);
    expect(out).toMatch(/^check +✔ job succeeded/m);
    expect(out).toMatch(/^Pipeline #1 succeeded/m);

    const list = await gust(["pipelines", repoDir], { env });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^ *${id} +1 +\\S+ +✔ success +main +[0-9a-f]{7} +manual +\\S+ +\\d+s ago$`, "m"));

    const shown = await gust(["pipeline", id!, "--json"], { env });
    const pipeline = JSON.parse(shown.stdout) as { status: string; jobs: Array<{ id: number; name: string; status: string }> };
    expect(pipeline.status).toBe("success");
    const build = pipeline.jobs.find((job) => job.name === "build")!;

    const logs = await gust(["logs", String(build.id)], { env });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^greet │ hello gust$/m);
    expect(logs.stdout).toMatch(/^warn ! careful now$/m);
    const followed = await gust(["logs", String(build.id), "-f"], { env });
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toMatch(/^greet │ hello gust$/m);
    expect(followed.stdout).toMatch(/✔ job succeeded/);

    const cancel = await gust(["cancel", id!], { env });
    expect(cancel).toMatchObject({ code: 1, stderr: `pipeline ${id} had already finished: ✔ success\n` });
  }, 120_000);

  it("refuses without a token and says how to get one", async () => {
    const result = await gust(["pipelines"], { env: { ...env, GUST_TOKEN: "", GUST_DATA_DIR: join(dataDir, "nowhere") } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("create a token with `gust token create`");
  });

  it("uses the cli-token gust serve writes on its embedded database (and only there)", async () => {
    expect(existsSync(join(dataDir, "cli-token"))).toBe(kind === "pglite");
    if (kind === "postgres") return; // a shared server's tokens are made by its admins, not left in a file
    const result = await gust(["pipelines", repoDir, "--data-dir", dataDir], { env: { ...env, GUST_TOKEN: "" } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain("error");
  });

  it("registers a repository through the API while gust serve holds the embedded database", async () => {
    if (kind === "postgres") return; // PostgreSQL has no lock: repo add writes to it directly
    const another = tempRepo({ ".gust.yml": PIPELINE }, { git: true });
    try {
      const result = await gust(["repo", "add", "local", another, "--data-dir", dataDir], { env: { ...env, GUST_TOKEN: "", GUST_DATABASE_URL: "", DATABASE_URL: "" } });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain("registering through its API");
      expect(result.stdout).toMatch(/added local repository .* \(id \d+\)/);
      const again = await gust(["repo", "add", "local", another, "--data-dir", dataDir], { env: { ...env, GUST_TOKEN: "", GUST_DATABASE_URL: "", DATABASE_URL: "" } });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
      const triggered = await gust(["trigger", another], { env });
      expect(triggered.code, triggered.stderr).toBe(0);
    } finally {
      await rm(another, { recursive: true, force: true });
    }
  }, 120_000);
});
