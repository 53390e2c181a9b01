// The pieces around the release controller: the Prometheus analysis source, the artifact digest,
// version pruning and the notification webhook, against real files and loopback HTTP servers.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtemp, rm, symlink, writeFile, mkdir, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { queryPrometheus, readValue, renderPromQuery } from "../../src/release/prometheus-source";
import { digestPath, releaseArtifact } from "../../src/release/release-artifact";
import { postNotice } from "../../src/release/release-notifier";
import { versionsToDelete } from "../../src/release/version-pruning";
import { judgeMeasurement } from "../../src/release/analysis-judge";

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;
const servers: Array<{ close(): void }> = [];
const dirs: string[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => handler(request, response, body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("prometheus analysis source", () => {
  it("fills in the version (quoted for PromQL) and the window", () => {
    expect(renderPromQuery('sum(rate(errors{version="{{version}}"}[{{window}}]))', 'v"1\\', 90_500)).toBe('sum(rate(errors{version="v\\"1\\\\"}[91s]))');
  });

  it("asks the query API at the window's end and reads one sample", async () => {
    const seen: URL[] = [];
    const url = await serve((request, response) => {
      seen.push(new URL(request.url!, "http://x"));
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1_700_000_000, "0.025"] }] } }));
    });
    const reading = await queryPrometheus({ url: `${url}/prom/`, query: 'x{v="{{version}}"}', version: "7", from: 1_000, to: 61_000 });
    expect(reading).toEqual({ value: 0.025 });
    expect(seen[0]!.pathname).toBe("/prom/api/v1/query");
    expect(seen[0]!.searchParams.get("query")).toBe('x{v="7"}');
    expect(seen[0]!.searchParams.get("time")).toBe("61.000");
  });

  it("makes no data, NaN, several series, errors and an unreachable server inconclusive, never a value", async () => {
    expect(readValue({ status: "success", data: { resultType: "vector", result: [] } })).toEqual({ problem: "no data" });
    expect(readValue({ status: "success", data: { resultType: "scalar", result: [1, "NaN"] } })).toEqual({ problem: "no data (NaN)" });
    expect(readValue({ status: "success", data: { resultType: "vector", result: [{ value: [1, "1"] }, { value: [1, "2"] }] } }).problem).toMatch(/2 series/);
    const failing = await serve((_request, response) => {
      response.statusCode = 400;
      response.end(JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error at char 3" }));
    });
    expect(await queryPrometheus({ url: failing, query: "x", version: "1", from: 0, to: 1 })).toEqual({ problem: "prometheus answered 400: parse error at char 3" });
    expect((await queryPrometheus({ url: "http://127.0.0.1:9", query: "x", version: "1", from: 0, to: 1 })).problem).toMatch(/^prometheus unreachable/);
    const judged = judgeMeasurement({ intervalMs: 60_000, failureLimit: 0, inconclusiveLimit: 1, minRequests: 0, metrics: [{ name: "errors", source: { kind: "prometheus", url: "x", query: "y" }, max: 1 }] }, [{ name: "errors", problem: "no data" }], 0);
    expect(judged).toMatchObject({ outcome: "inconclusive", metrics: [{ verdict: "inconclusive", reason: "no data" }] });
  });
});

describe("release artifact", () => {
  it("gives the same digest for the same files whatever their order or umask, and another for any change", async () => {
    const a = await mkdtemp(join(tmpdir(), "gust-artifact-a-"));
    const b = await mkdtemp(join(tmpdir(), "gust-artifact-b-"));
    dirs.push(a, b);
    await mkdir(join(a, "lib"));
    await writeFile(join(a, "lib", "x.js"), "x");
    await writeFile(join(a, "main.js"), "main");
    await writeFile(join(a, "gust-artifact.json"), '{"createdAt": 1}');
    await symlink("main.js", join(a, "index.js"));
    await writeFile(join(b, "main.js"), "main");
    await mkdir(join(b, "lib"));
    await writeFile(join(b, "lib", "x.js"), "x");
    await symlink("main.js", join(b, "index.js"));
    await chmod(join(b, "main.js"), 0o600);
    expect(await digestPath(b)).toBe(await digestPath(a));
    await chmod(join(b, "main.js"), 0o755);
    const executable = await digestPath(b);
    expect(executable).not.toBe(await digestPath(a));
    await writeFile(join(b, "lib", "x.js"), "y");
    expect(await digestPath(b)).not.toBe(executable);
  });

  it("names the missing path, refuses paths leaving the artifact, and digests image references", async () => {
    const root = await mkdtemp(join(tmpdir(), "gust-artifact-"));
    dirs.push(root);
    const local = { type: "local", command: "x", port: 1, env: {} } as const;
    await expect(releaseArtifact(local, { root, subpath: "dist" }, "d")).rejects.toThrow(/has no dist/);
    await expect(releaseArtifact(local, { root, subpath: "../etc" }, "d")).rejects.toThrow(/leaves the artifact/);
    const fc = { type: "fc", region: "r", function: "f", alias: "live", image: "registry/app:1", env: {} } as const;
    const image = await releaseArtifact(fc, undefined, "d");
    expect(image).toMatchObject({ image: "registry/app:1", digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe("version pruning", () => {
  it("keeps the newest versions and never a protected one", () => {
    const versions = ["9", "8", "7", "6", "5"].map((version) => ({ version }));
    expect(versionsToDelete(versions, 2, new Set(["6"]))).toEqual(["7", "5"]);
    expect(versionsToDelete(versions, 10, new Set())).toEqual([]);
  });
});

describe("release notifications", () => {
  it("posts each transition as JSON, retrying a server error", async () => {
    const received: unknown[] = [];
    let calls = 0;
    const url = await serve((_request, response, body) => {
      calls += 1;
      if (calls === 1) {
        response.statusCode = 503;
        return response.end();
      }
      received.push(JSON.parse(body));
      response.end();
    });
    const notice = { release: 3, repository: "acme/app", pipeline: 12, target: "local :8080", version: "4", from: "progressing", to: "rolling-back", weight: 20, reason: "analysis failed", at: "2030-01-01T00:00:00.000Z" };
    expect(await postNotice(url, notice)).toBe(true);
    expect(received).toEqual([{ event: "release.transition", ...notice }]);
  });

  it("gives up at once on a client error and says why", async () => {
    let calls = 0;
    const url = await serve((_request, response) => {
      calls += 1;
      response.statusCode = 404;
      response.end();
    });
    const failures: string[] = [];
    const notice = { release: 1, repository: "r", pipeline: 1, target: "t", version: null, from: "a", to: "b", weight: 0, reason: "r", at: "x" };
    expect(await postNotice(url, notice, { onFailure: (error) => failures.push(error) })).toBe(false);
    expect(calls).toBe(1);
    expect(failures[0]).toMatch(/failed: HTTP 404/);
  });
});
