// The local router with real HTTP: upstreams are small servers in this process answering with
// their version, so thousands of requests stay cheap.
import { createHash } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { TrafficSplit } from "../../src/release/deploy-provider";
import { freePort } from "../../src/release/local/free-port";
import { LocalRouter, type UpstreamAddress } from "../../src/release/local/local-router";
import { PIN_HEADER } from "../../src/release/local/traffic-choice";
import { VersionMetricsRecorder } from "../../src/release/local/version-metrics";
import { httpGet } from "./fixtures/local-harness";

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function upstream(version: string): Promise<UpstreamAddress> {
  const server: Server = createServer((req, res) => {
    const hash = createHash("sha256");
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      if (req.url === "/fail") {
        res.writeHead(503).end("down");
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "keep-alive": "timeout=77", "x-app": "kept" });
      res.end(JSON.stringify({ version, headers: req.headers, length, sha256: hash.digest("hex") }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { host: "127.0.0.1", port: (server.address() as AddressInfo).port };
}

async function router(split: TrafficSplit, addresses: Record<string, UpstreamAddress>) {
  const metrics = new VersionMetricsRecorder();
  const instance = new LocalRouter({ host: "127.0.0.1", port: await freePort(), metrics });
  await instance.listen();
  open.push(() => instance.close(1_000));
  instance.setTable(split, new Map(Object.entries(addresses)));
  return { router: instance, metrics, port: instance.port };
}

const get = (port: number, path = "/", headers: Record<string, string> = {}) => httpGet(port, path, headers);

function tally(versions: Array<string | null>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const version of versions) counts[String(version)] = (counts[String(version)] ?? 0) + 1;
  return counts;
}

const window = () => ({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 1_000) });

describe("local router", () => {
  it("splits sequential requests by weight within one request (smooth weighted round-robin)", async () => {
    const { port } = await router({ stable: "1", canary: { version: "2", weight: 13 } }, { "1": await upstream("1"), "2": await upstream("2") });
    const N = 2_000;
    const versions: Array<string | null> = [];
    for (let i = 0; i < N; i++) versions.push((await get(port)).version);
    const counts = tally(versions);
    expect(Math.abs((counts["2"] ?? 0) - N * 0.13)).toBeLessThanOrEqual(1);
    expect((counts["1"] ?? 0) + (counts["2"] ?? 0)).toBe(N);
    // Any window of 100 consecutive requests is within one of 13 as well.
    for (let start = 0; start + 100 <= N; start += 100) {
      const canary = versions.slice(start, start + 100).filter((version) => version === "2").length;
      expect(Math.abs(canary - 13)).toBeLessThanOrEqual(1);
    }
  });

  it("keeps the split under concurrent requests (within ±1% over 3,000)", async () => {
    const { port } = await router({ stable: "1", canary: { version: "2", weight: 37.5 } }, { "1": await upstream("1"), "2": await upstream("2") });
    const N = 3_000;
    const versions: Array<string | null> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < N) {
          next += 1;
          versions.push((await get(port)).version);
        }
      }),
    );
    const counts = tally(versions);
    expect(versions).toHaveLength(N);
    expect(Math.abs((counts["2"] ?? 0) / N - 0.375)).toBeLessThanOrEqual(0.01);
  });

  it("sends requests matching the header or the cookie to the canary, and only those", async () => {
    const { port } = await router(
      { stable: "1", canary: { version: "2", weight: 0 }, route: { header: { name: "X-Beta", value: "yes" }, cookie: { name: "beta", value: "on" } } },
      { "1": await upstream("1"), "2": await upstream("2") },
    );
    const matching: Array<Record<string, string>> = [
      { "x-beta": "yes" },
      { "X-BETA": "yes" },
      { cookie: "beta=on" },
      { cookie: "a=1; beta=on; b=2" },
      { cookie: 'beta="on"' },
    ];
    const other: Array<Record<string, string>> = [{}, { "x-beta": "no" }, { "x-beta": "YES" }, { "x-beta": "yess" }, { cookie: "beta=off" }, { cookie: "xbeta=on" }, { cookie: "beta=on2" }, { "x-other": "yes" }];
    for (let round = 0; round < 20; round++) {
      for (const headers of matching) expect((await get(port, "/", headers)).version, JSON.stringify(headers)).toBe("2");
      for (const headers of other) expect((await get(port, "/", headers)).version, JSON.stringify(headers)).toBe("1");
    }
  });

  it("pins a request to a serving version with x-gust-version and refuses a version that is not serving", async () => {
    const { port } = await router({ stable: "1", canary: { version: "2", weight: 1 } }, { "1": await upstream("1"), "2": await upstream("2") });
    for (let i = 0; i < 10; i++) expect((await get(port, "/", { [PIN_HEADER]: "2" })).version).toBe("2");
    const missing = await get(port, "/", { [PIN_HEADER]: "7" });
    expect(missing.status).toBe(404);
    expect(missing.body).toContain("version 7 is not serving");
  });

  it("answers 502 for an upstream that does not answer and counts it as an error of that version", async () => {
    const dead = { host: "127.0.0.1", port: await freePort() };
    const { port, metrics } = await router({ stable: "1", canary: { version: "2", weight: 50 } }, { "1": await upstream("1"), "2": dead });
    const answers = await Promise.all(Array.from({ length: 10 }, () => get(port)));
    expect(tally(answers.map((answer) => `${answer.version}:${answer.status}`))).toEqual({ "1:200": 5, "2:502": 5 });
    expect(metrics.figures("2", window())).toMatchObject({ requests: 5, errors: 5 });
    expect(metrics.figures("1", window())).toMatchObject({ requests: 5, errors: 0 });
    const failing = await get(port, "/fail", { [PIN_HEADER]: "1" });
    expect(failing.status).toBe(503);
    expect(metrics.figures("1", window())).toMatchObject({ requests: 6, errors: 1 });
  });

  it("streams bodies both ways and rewrites hop-by-hop and forwarding headers", async () => {
    const { port } = await router({ stable: "1" }, { "1": await upstream("1") });
    const body = Buffer.alloc(5 * 1024 * 1024, "abcdefgh");
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/upload",
          headers: { connection: "keep-alive, x-drop-me", "x-drop-me": "1", "x-forwarded-for": "10.0.0.1", te: "trailers", "transfer-encoding": "chunked" },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on("error", reject);
      // Written in pieces: the router must pass a chunked body through as it comes.
      for (let offset = 0; offset < body.length; offset += 256 * 1024) req.write(body.subarray(offset, offset + 256 * 1024));
      req.end();
    });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.text) as { length: number; sha256: string; headers: Record<string, string> };
    expect(seen.length).toBe(body.length);
    expect(seen.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(seen.headers["x-drop-me"]).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers["x-forwarded-for"]).toBe("10.0.0.1, 127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe(`127.0.0.1:${port}`);
    expect(answer.headers["x-app"]).toBe("kept");
    expect(answer.headers["keep-alive"]).not.toBe("timeout=77");
    expect(answer.headers[PIN_HEADER]).toBe("1");
  });

  it("lets requests in flight finish on an upstream that left the table, then reports it drained", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer((_req, res) => void held.then(() => res.end("old")));
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    open.push(() => new Promise((resolve) => slow.close(() => resolve())));
    const old = { host: "127.0.0.1", port: (slow.address() as AddressInfo).port };
    const { router: instance, port } = await router({ stable: "1" }, { "1": old });
    const inFlight = get(port);
    // The request has reached the old upstream once the upstream counts a connection.
    await new Promise<void>((resolve) => {
      const check = () => slow.getConnections((_error, count) => (count > 0 ? resolve() : setImmediate(check)));
      check();
    });
    instance.setTable({ stable: "2" }, new Map([["2", await upstream("2")]]));
    let drained = false;
    const draining = instance.drained("1").then(() => (drained = true));
    expect((await get(port)).version).toBe("2");
    expect(drained).toBe(false);
    release();
    expect(await inFlight).toMatchObject({ status: 200, version: "1", body: "old" });
    await draining;
    expect(drained).toBe(true);
  });
});
