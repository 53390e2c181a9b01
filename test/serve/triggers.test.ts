// `gust serve` end to end, for the pipelines Gust starts itself: a manual trigger through the REST
// API (inputs checked, bad ones refused with the input named), and a schedule whose ticks the
// server's ticker turns into runs. A repository on disk, the local executor, the embedded database.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { startServer, type RunningServer } from "../../src/main/serve";
import { applyMigrations, loadOrCreateKeyFile, openDatabase, RepositoriesStore, Sealer } from "../../src/store";
import { git, tempRepo } from "../helpers/gust-cli";

describe("gust serve: manual triggers and schedules", () => {
  let dataDir: string;
  let repoDir: string;
  let server: RunningServer | undefined;
  let repositoryId: number;
  let token: string;
  let greeting: string;
  let ticks: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-serve-triggers-"));
    greeting = join(dataDir, "greeting.txt");
    ticks = join(dataDir, "ticks.txt");
    repoDir = tempRepo(
      {
        ".gust.yml": `on:
  manual:
    inputs:
      greeting: {type: string, default: hello}
      times: {type: number, default: 1}
jobs:
  greet:
    steps:
      - run: echo "\${{ inputs.greeting }} x\${{ inputs.times }}" > '${greeting}'
`,
      },
      { git: true },
    );

    const database = await openDatabase({ dataDir });
    await applyMigrations(database);
    const repositories = new RepositoriesStore(database, new Sealer((await loadOrCreateKeyFile(join(dataDir, "master.key"))).key));
    repositoryId = (await repositories.createRepository({ forge: "local", fullName: repoDir })).id;
    await database.close();

    const config = loadConfig({
      // Schedules are read again every second: the last test adds one with a commit.
      argv: ["--data-dir", dataDir, "--port", "0", "--host", "127.0.0.1", "--shutdown-grace-ms", "1000", "--schedule-refresh-ms", "1000"],
      env: { GUST_LOG_LEVEL: "silent" },
      readFile: () => {
        throw new Error("no config file");
      },
    });
    server = await startServer(config, pino({ level: "silent" }));
    // On the embedded database the server writes an admin token for the CLI on this machine.
    token = (await readFile(join(dataDir, "cli-token"), "utf8")).trim();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  function trigger(body: unknown): Promise<Response> {
    return fetch(`${server!.url}/api/repositories/${repositoryId}/trigger`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 600 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!condition()) throw new Error(`gave up waiting for ${what}`);
  }

  it("runs a manual trigger's pipeline with its inputs at the default branch's head", async () => {
    const response = await trigger({ inputs: { greeting: "hi there", times: "3" } });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({
      sha: git(repoDir, ["rev-parse", "HEAD"]),
      ref: "refs/heads/main",
      pipelines: [{ id: expect.any(Number), number: expect.any(Number), name: expect.any(String), status: "pending" }],
    });
    await until(() => existsSync(greeting) && readFileSync(greeting, "utf8") !== "", "the triggered job");
    expect(readFileSync(greeting, "utf8")).toBe("hi there x3\n");
  });

  it("refuses bad inputs naming the input, and an unknown ref", async () => {
    const typo = await trigger({ inputs: { greting: "hi" } });
    expect(typo.status).toBe(400);
    expect(await typo.json()).toMatchObject({ error: { code: "invalid_inputs", message: expect.stringContaining("unknown input 'greting' (did you mean 'greeting'?)") } });
    const notANumber = await trigger({ inputs: { times: "many" } });
    expect(notANumber.status).toBe(400);
    expect(await notANumber.json()).toMatchObject({ error: { message: expect.stringContaining("input 'times' expects a number, got 'many'") } });
    const unknownRef = await trigger({ ref: "no-such-branch" });
    expect(unknownRef.status).toBe(404);
    expect(await unknownRef.json()).toMatchObject({ error: { code: "ref_not_found", message: expect.stringContaining("'no-such-branch'") } });
  });

  it("follows a schedule added by a commit, and runs its ticks", async () => {
    await mkdir(join(repoDir, ".gust"), { recursive: true });
    await writeFile(join(repoDir, ".gust/tick.yml"), `on: {schedule: [{cron: '* * * * * *'}]}\njobs:\n  tick: {steps: [{run: "echo tick >> '${ticks}'"}]}\n`);
    git(repoDir, ["add", "-A"]);
    git(repoDir, ["commit", "-q", "-m", "tick every second"]);
    await until(() => existsSync(ticks), "a schedule tick to run");
    expect(readFileSync(ticks, "utf8")).toContain("tick\n");
  });
});
