// The local target beyond the shared contract: how versions are published, started, checked and
// stopped, and how bad settings and splits are refused.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isGustError, ProviderError } from "../../src/errors";
import { APP_SOURCE, createLocalTarget, eventually, fixtureArtifact, groupRunning, type LocalTestTarget } from "./fixtures/local-harness";

const targets: LocalTestTarget[] = [];
async function fresh(options: Parameters<typeof createLocalTarget>[0] = {}): Promise<LocalTestTarget> {
  const target = await createLocalTarget(options);
  targets.push(target);
  return target;
}
afterEach(async () => {
  for (const target of targets.splice(0)) await target.teardown();
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

async function processesFile(local: LocalTestTarget): Promise<Array<{ pgid: number }>> {
  const text = await readFile(path.join(local.hostOptions.root, String(local.port), "processes.json"), "utf8").catch(() => "{}");
  return (JSON.parse(text) as { processes?: Array<{ pgid: number }> }).processes ?? [];
}


describe("local target", () => {
  it("numbers versions 1, 2, 3 … and never reuses a number, also after a restart", async () => {
    const local = await fresh();
    const published = [];
    for (const n of [1, 2, 3]) published.push((await local.provider.publish(await local.artifact(n))).version);
    expect(published).toEqual(["1", "2", "3"]);
    await local.provider.deleteVersion("3");
    expect((await local.provider.publish(await local.artifact(4))).version).toBe("4");
    await local.provider.deleteVersion("4");
    const reopened = local.newHost().provider(local.target);
    expect(await reopened.publish(await local.artifact(5))).toEqual({ version: "5", created: true });
    // The artifact of a deleted version comes back as a new version.
    expect(await reopened.publish(await local.artifact(3))).toEqual({ version: "6", created: true });
    expect((await reopened.versions()).map((entry) => entry.version)).toEqual(["6", "5", "2", "1"]);
    expect((await reopened.versions())[0]).toMatchObject({ description: "fixture app v3", createdAt: expect.any(Date) });
  });

  it("makes a new version for the same artifact run differently (command, env, directory are part of a version)", async () => {
    const local = await fresh();
    const artifact = await local.artifact(1);
    expect(await local.provider.publish(artifact)).toEqual({ version: "1", created: true });
    const otherEnv = local.host.provider({ ...local.target, env: { MODE: "b" } });
    expect(await otherEnv.publish(artifact)).toEqual({ version: "2", created: true });
    expect(await otherEnv.publish(artifact)).toEqual({ version: "2", created: false });
    expect(await local.provider.publish(artifact)).toEqual({ version: "1", created: false });
  });

  it("runs the command in the artifact's directory with PORT, the target's env and none of Gust's secrets", async () => {
    const local = await fresh({ target: { directory: "srv", env: { GREETING: "hello", PORT: "1" } } });
    const artifact = path.join(local.root, "nested");
    await mkdir(path.join(artifact, "srv"), { recursive: true });
    await writeFile(path.join(artifact, "srv", "server.mjs"), await readFile(APP_SOURCE));
    await writeFile(path.join(artifact, "srv", "version.txt"), "nested\n");
    const previous = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres://secret@db/gust";
    try {
      const { version } = await local.provider.publish({ path: artifact, digest: "nested", description: "nested" });
      await local.provider.promote(version);
    } finally {
      if (previous === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = previous;
    }
    const answer = await local.request("/env");
    const { env, cwd } = JSON.parse(answer.body) as { env: Record<string, string>; cwd: string };
    expect(cwd.endsWith(path.join("versions", "1", "app", "srv"))).toBe(true);
    expect(env).toMatchObject({ GREETING: "hello", GUST_RELEASE_VERSION: "1", GUST_RELEASE_PORT: String(local.port) });
    expect(env.PORT).not.toBe("1");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.PATH).toBe(process.env.PATH);
    expect((await local.request("/")).body).toBe("nested");
  });

  it("publishes a single file as a version holding that file", async () => {
    const local = await fresh({ target: { command: "node app.cjs", healthPath: undefined } });
    const file = path.join(local.root, "app.cjs");
    await writeFile(file, `require("node:http").createServer((q, s) => s.end("from a file")).listen(Number(process.env.PORT), "127.0.0.1");\n`);
    const { version } = await local.provider.publish({ path: file, digest: "file-1", description: "one file" });
    await local.provider.promote(version);
    expect(await local.request("/")).toMatchObject({ status: 200, version, body: "from a file" });
  });

  it("refuses an artifact that is not on this machine, naming it", async () => {
    const local = await fresh();
    const missing = await failure(local.provider.publish({ path: path.join(local.root, "nope"), digest: "x", description: "x" }));
    expect(missing).toMatchObject({ retryable: false, fault: "user", code: "local_artifact_missing" });
    expect(missing.message).toContain("nope");
    const image = await failure(local.provider.publish({ image: "registry/app:1", digest: "y", description: "y" }));
    expect(image.message).toContain("artifact.path");
    expect(await local.provider.versions()).toEqual([]);
  });

  it("fails a version that exits before it is healthy, with its last output, and changes nothing", async () => {
    const local = await fresh();
    const v1 = (await local.provider.publish(await local.artifact(1))).version;
    await local.provider.promote(v1);
    const broken = local.host.provider({ ...local.target, command: "echo starting up; echo 'missing setting DB_HOST' >&2; exit 3" });
    const v2 = (await broken.publish(await local.artifact(2))).version;
    const error = await failure(broken.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } }));
    expect(error).toMatchObject({ retryable: false, fault: "user", code: "local_version_unhealthy" });
    expect(error.message).toContain("exit code 3");
    expect(error.message).toContain("missing setting DB_HOST");
    expect(error.message).toContain("starting up");
    expect(await local.provider.traffic()).toEqual({ stable: v1 });
    expect(await local.request("/")).toMatchObject({ status: 200, version: v1 });
  });

  it("fails a version that never becomes healthy within the start timeout, and stops it", async () => {
    const local = await fresh({ host: { startTimeoutMs: 1_500 } });
    const silent = local.host.provider({ ...local.target, command: `node -e "console.log('booting forever'); setInterval(() => {}, 1000)"` });
    const { version } = await silent.publish(await local.artifact(1));
    const error = await failure(silent.promote(version));
    expect(error).toMatchObject({ retryable: false, code: "local_version_unhealthy" });
    expect(error.message).toContain("was not healthy within 1500 ms");
    expect(error.message).toContain("GET /health");
    expect(error.message).toContain("booting forever");
    expect(await local.provider.traffic()).toEqual({ stable: null });
    expect(await processesFile(local)).toEqual([]);
  });

  it("accepts a version without a health path once it accepts connections", async () => {
    const local = await fresh({ target: { healthPath: undefined } });
    const { version } = await local.provider.publish(await local.artifact(1));
    await local.provider.promote(version);
    expect(await local.request("/")).toMatchObject({ status: 200, body: "v1" });
  });

  it("refuses a bad split naming the field, and an unpublished version, changing nothing", async () => {
    const local = await fresh();
    const v1 = (await local.provider.publish(await local.artifact(1))).version;
    await local.provider.promote(v1);
    const weight = await failure(local.provider.setTraffic({ stable: v1, canary: { version: v1 + "0", weight: 150 } }));
    expect(weight).toMatchObject({ retryable: false, fault: "user", code: "local_invalid_split" });
    expect(weight.message).toContain("split.canary.weight");
    const header = await failure(local.provider.setTraffic({ stable: v1, canary: { version: "2", weight: 0 }, route: { header: { name: "bad header", value: "x" } } }));
    expect(header.message).toContain("split.route.header.name");
    const unknown = await failure(local.provider.setTraffic({ stable: v1, canary: { version: "9", weight: 10 } }));
    expect(unknown).toMatchObject({ retryable: false, code: "local_version_unknown" });
    expect(unknown.message).toContain("version 9 is not published");
    expect(await local.provider.traffic()).toEqual({ stable: v1 });
  });

  it("refuses a port another program listens on, as the user's setting", async () => {
    const local = await fresh();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(local.port, "127.0.0.1", resolve));
    try {
      const { version } = await local.provider.publish(await local.artifact(1));
      const error = await failure(local.provider.promote(version));
      expect(error).toMatchObject({ retryable: false, fault: "user", code: "local_port_in_use" });
      expect(error.message).toContain(String(local.port));
      expect(await local.provider.traffic()).toEqual({ stable: null });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it("starts a version again when it crashes while serving, and says so", async () => {
    const local = await fresh();
    const { version } = await local.provider.publish(await local.artifact(1));
    await local.provider.promote(version);
    const [before] = await processesFile(local);
    expect(await local.request("/exit")).toMatchObject({ status: 200, body: "v1 exiting" });
    await eventually(async () => local.logs.some((entry) => entry.level === "warn" && entry.message.includes("exited (exit code 1) while serving")), "the crash is logged");
    await eventually(async () => local.logs.some((entry) => entry.message.includes("is serving again")), "the version is started again");
    expect(await local.request("/")).toMatchObject({ status: 200, version, body: "v1" });
    const [after] = await processesFile(local);
    expect(after?.pgid).not.toBe(before?.pgid);
    expect(local.logs.find((entry) => entry.level === "warn")?.lines).toEqual(expect.arrayContaining([expect.stringContaining("v1 listening")]));
  });

  it("stops a version that leaves the split, and a rollback to nothing gives the port back", async () => {
    const local = await fresh();
    const v1 = (await local.provider.publish(await local.artifact(1))).version;
    const v2 = (await local.provider.publish(await local.artifact(2))).version;
    await local.provider.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } });
    const both = await processesFile(local);
    expect(both).toHaveLength(2);
    await local.provider.promote(v2);
    await eventually(async () => (await processesFile(local)).length === 1, "version 1's process is stopped after its drain");
    await eventually(async () => (await Promise.all(both.map(({ pgid }) => groupRunning(pgid)))).filter(Boolean).length === 1, "one of the two groups is gone");
    expect(await local.provider.rollback({ stable: null })).toEqual({ stable: null });
    await eventually(async () => (await processesFile(local)).length === 0, "every process is stopped");
    const error = await local.request("/").catch((caught: unknown) => caught);
    expect((error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("reports calls after the host closed as retryable (Gust is shutting down)", async () => {
    const local = await fresh();
    const { version } = await local.provider.publish(await local.artifact(1));
    await local.host.close();
    const error = await failure(local.provider.promote(version));
    expect(isGustError(error) && error.retryable).toBe(true);
    expect(error.code).toBe("local_host_closing");
  });

  it("keeps the artifact's files in the version directory, untouched by later changes to the artifact", async () => {
    const local = await fresh();
    const artifact = await fixtureArtifact(path.join(local.root, "mutable"), 1);
    const { version } = await local.provider.publish(artifact);
    await writeFile(path.join(artifact.path!, "version.txt"), "changed afterwards\n");
    await local.provider.promote(version);
    expect((await local.request("/")).body).toBe("v1");
  });
});
