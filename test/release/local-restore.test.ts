// A restart of Gust brings every local release port back exactly as it was: the same split, the
// serving versions' processes, the route; what a Gust killed with -9 left running is ended first.
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLocalTarget, eventually, groupRunning, requestRouter, type LocalTestTarget } from "./fixtures/local-harness";

const HOST_PROCESS = fileURLToPath(new URL("./fixtures/host-process.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

const targets: LocalTestTarget[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) await target.teardown();
});

async function anyRunning(pgids: number[]): Promise<boolean> {
  return (await Promise.all(pgids.map(groupRunning))).some(Boolean);
}

async function allRunning(pgids: number[]): Promise<boolean> {
  return (await Promise.all(pgids.map(groupRunning))).every(Boolean);
}

async function processGroups(local: LocalTestTarget): Promise<number[]> {
  const text = await readFile(path.join(local.hostOptions.root, String(local.port), "processes.json"), "utf8").catch(() => "{}");
  return ((JSON.parse(text) as { processes?: Array<{ pgid: number }> }).processes ?? []).map((entry) => entry.pgid);
}

async function canaryShare(port: number, canary: string, requests: number): Promise<number> {
  let count = 0;
  for (let i = 0; i < requests; i++) if ((await requestRouter(port, "/")).version === canary) count += 1;
  return count;
}

describe("local target restore", () => {
  it("brings back the same split, route and processes after a clean stop", async () => {
    const local = await createLocalTarget();
    targets.push(local);
    const { provider } = local;
    const v1 = (await provider.publish(await local.artifact(1))).version;
    const v2 = (await provider.publish(await local.artifact(2))).version;
    const split = { stable: v1, canary: { version: v2, weight: 30 }, route: { header: { name: "x-beta", value: "1" } } };
    await provider.setTraffic(split);
    const before = await processGroups(local);
    await local.host.close();
    expect(await anyRunning(before)).toBe(false);
    expect(await processGroups(local)).toEqual([]);
    await expect(requestRouter(local.port, "/")).rejects.toMatchObject({ code: "ECONNREFUSED" });

    const restarted = local.newHost();
    expect(await restarted.restore()).toEqual([{ port: local.port, split }]);
    const reopened = restarted.provider(local.target);
    expect(await reopened.traffic()).toEqual(split);
    expect(await requestRouter(local.port, "/", { version: v1 })).toMatchObject({ status: 200, body: "v1" });
    expect(await requestRouter(local.port, "/", { version: v2 })).toMatchObject({ status: 200, body: "v2" });
    expect(await requestRouter(local.port, "/", { headers: { "x-beta": "1" } })).toMatchObject({ status: 200, body: "v2" });
    expect(Math.abs((await canaryShare(local.port, v2, 200)) - 60)).toBeLessThanOrEqual(1);
    expect(await processGroups(local)).toHaveLength(2);
  });

  it("ends the processes a Gust killed with -9 left behind, then serves the split again", async () => {
    const local = await createLocalTarget();
    targets.push(local);
    const child = spawn(process.execPath, ["--import", "tsx", HOST_PROCESS, local.hostOptions.root, String(local.port), path.join(local.root, "artifacts")], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await eventually(async () => output.includes("ready") || child.exitCode !== null, "the host process is ready", 60_000);
    expect(output).toContain("ready");
    const leftovers = await processGroups(local);
    expect(leftovers).toHaveLength(2);
    child.kill("SIGKILL");
    await exited;
    // The versions outlive their Gust; only the router went with it.
    expect(await allRunning(leftovers)).toBe(true);

    const restarted = local.newHost();
    const [restored] = await restarted.restore();
    expect(restored).toEqual({ port: local.port, split: { stable: "1", canary: { version: "2", weight: 25 } } });
    expect(await anyRunning(leftovers)).toBe(false);
    expect(local.logs.filter((entry) => entry.message.includes("left by a previous Gust"))).toHaveLength(2);
    const now = await processGroups(local);
    expect(now).toHaveLength(2);
    expect(now.filter((pgid) => leftovers.includes(pgid))).toEqual([]);
    expect(await requestRouter(local.port, "/", { version: "2" })).toMatchObject({ status: 200, body: "v2" });
    expect(Math.abs((await canaryShare(local.port, "2", 100)) - 25)).toBeLessThanOrEqual(1);
  });
});
