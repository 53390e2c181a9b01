import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isGustError } from "../../src/errors";
import { JobLogWriter } from "../../src/logs/job-log-writer";
import { LogHub } from "../../src/logs/log-hub";
import { MemoryLogStore } from "../../src/logs/memory-log-store";
import { type LogLineJson, logPageHandler, logStreamHandler } from "../../src/logs/sse";
import { line } from "./log-store-contract";
import { openSse, type SseConnection } from "./sse-client";

const store = new MemoryLogStore();
const hub = new LogHub({ store });
const jobs = new Map<number, { finished: boolean }>();
const jobState = async (jobId: number) => jobs.get(jobId) ?? null;
let server: ServerType;
let base: string;

beforeAll(async () => {
  const app = new Hono();
  app.get("/api/jobs/:id/logs/stream", logStreamHandler({ hub, jobState, heartbeatMs: 100 }));
  app.get("/api/jobs/:id/logs", logPageHandler({ store, jobState }));
  // What http/'s onError is expected to do with these errors.
  app.onError((error, c) => {
    if (isGustError(error) && error.code === "not_found") return c.json({ error: error.message }, 404);
    if (isGustError(error) && error.fault === "user") return c.json({ error: error.message }, 400);
    return c.json({ error: "internal" }, 500);
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await hub.close();
  await new Promise((resolve) => server.close(resolve));
});

let nextJob = 100;
function newJob(): number {
  const id = ++nextJob;
  jobs.set(id, { finished: false });
  return id;
}

async function write(job: number, from: number, to: number): Promise<void> {
  const writer = new JobLogWriter(job, hub, { flushIntervalMs: 5 });
  for (let i = from; i <= to; i++) writer.write(line(`line ${i}`, { step: i % 3 === 0 ? null : 1 }));
  await writer.close();
}

async function finish(job: number): Promise<void> {
  jobs.set(job, { finished: true });
  await hub.finish(job);
}

function lineEvents(connection: SseConnection): Array<{ id: string | undefined; data: LogLineJson }> {
  return connection.events.filter((e) => e.event === "line").map((e) => ({ id: e.id, data: JSON.parse(e.data) as LogLineJson }));
}

/** Polls (the server side reacts asynchronously); gives up after 10 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

const numbers = (connection: SseConnection) => lineEvents(connection).map((e) => e.data.number);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

describe("GET /api/jobs/:id/logs/stream", () => {
  it("streams every line with its number as id, then `end` once the job finished", async () => {
    const job = newJob();
    await write(job, 1, 5);
    const client = await openSse(`${base}/api/jobs/${job}/logs/stream`);
    expect(client.status).toBe(200);
    expect(client.headers["content-type"]).toMatch(/^text\/event-stream/);
    await client.until((c) => c.events.length === 5, "the first lines");
    await write(job, 6, 40);
    await finish(job);
    await client.ended;
    const events = lineEvents(client);
    expect(events.map((e) => e.id)).toEqual(range(1, 40).map(String));
    expect(events.map((e) => e.data.text)).toEqual(range(1, 40).map((i) => `line ${i}`));
    expect(events[2]!.data).toMatchObject({ number: 3, step: null, stream: "stdout", attempt: 1 });
    const last = client.events.at(-1)!;
    expect(last).toEqual({ event: "end", data: '{"lastLine":40}' });
    await until(() => hub.subscriberCount === 0);
  });

  it("resumes after Last-Event-ID with exactly the missing lines", async () => {
    const job = newJob();
    await write(job, 1, 10);
    const first = await openSse(`${base}/api/jobs/${job}/logs/stream`);
    await first.until((c) => c.events.length >= 10);
    first.close();
    await first.ended;
    const lastId = lineEvents(first).at(-1)!.id!;
    expect(lastId).toBe("10");
    await write(job, 11, 25); // printed while the client was away
    const second = await openSse(`${base}/api/jobs/${job}/logs/stream?after=3`, { "Last-Event-ID": lastId });
    await second.until((c) => numbers(c).length >= 15);
    await write(job, 26, 30);
    await finish(job);
    await second.ended;
    expect(numbers(second)).toEqual(range(11, 30));
    expect(second.events.at(-1)!.event).toBe("end");
  });

  it("starts after ?after=N without Last-Event-ID", async () => {
    const job = newJob();
    await write(job, 1, 8);
    await finish(job);
    const client = await openSse(`${base}/api/jobs/${job}/logs/stream?after=5`);
    await client.ended;
    expect(numbers(client)).toEqual([6, 7, 8]);
    expect(client.events.at(-1)).toEqual({ event: "end", data: '{"lastLine":8}' });
  });

  it("ends at once for a finished job read to its end", async () => {
    const job = newJob();
    await write(job, 1, 2);
    await finish(job);
    const client = await openSse(`${base}/api/jobs/${job}/logs/stream`, { "Last-Event-ID": "2" });
    await client.ended;
    expect(client.events).toEqual([{ event: "end", data: '{"lastLine":2}' }]);
  });

  it("sends heartbeats and stops when the client goes away", async () => {
    const job = newJob();
    const before = hub.subscriberCount;
    const client = await openSse(`${base}/api/jobs/${job}/logs/stream`);
    await client.until((c) => c.comments.includes("heartbeat"), "a heartbeat");
    expect(hub.subscriberCount).toBe(before + 1);
    client.close();
    await client.ended;
    await until(() => hub.subscriberCount === before);
  });

  it("notices at a heartbeat that the job finished without a finish() here", async () => {
    const job = newJob();
    await write(job, 1, 3);
    const client = await openSse(`${base}/api/jobs/${job}/logs/stream`);
    await client.until((c) => c.events.length === 3);
    jobs.set(job, { finished: true }); // finished on another replica whose notification was lost
    await client.ended;
    expect(client.events.at(-1)).toEqual({ event: "end", data: '{"lastLine":3}' });
  });

  it("answers 404 for an unknown job and 400 for a bad Last-Event-ID", async () => {
    const missing = await openSse(`${base}/api/jobs/999/logs/stream`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(await missing.body())).toEqual({ error: "job 999 not found" });
    const job = newJob();
    const bad = await openSse(`${base}/api/jobs/${job}/logs/stream`, { "Last-Event-ID": "abc" });
    expect(bad.status).toBe(400);
    const badId = await openSse(`${base}/api/jobs/x1/logs/stream`);
    expect(badId.status).toBe(400);
  });
});

describe("GET /api/jobs/:id/logs", () => {
  it("returns a page of lines after a number", async () => {
    const job = newJob();
    await write(job, 1, 12);
    const res = await fetch(`${base}/api/jobs/${job}/logs?after=4&limit=5`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { lines: LogLineJson[]; next: number; finished: boolean; more: boolean };
    expect(page.lines.map((l) => l.number)).toEqual([5, 6, 7, 8, 9]);
    expect(page.lines[0]).toMatchObject({ text: "line 5", stream: "stdout", step: 1, attempt: 1 });
    expect(page).toMatchObject({ next: 9, finished: false, more: true });
    const rest = (await (await fetch(`${base}/api/jobs/${job}/logs?after=9`)).json()) as { lines: LogLineJson[]; next: number; more: boolean };
    expect(rest).toMatchObject({ next: 12, more: false });
    expect(rest.lines.length).toBe(3);
    const empty = (await (await fetch(`${base}/api/jobs/${job}/logs?after=12`)).json()) as { lines: LogLineJson[]; next: number };
    expect(empty).toMatchObject({ lines: [], next: 12 });
  });

  it("rejects bad queries and unknown jobs", async () => {
    const job = newJob();
    expect((await fetch(`${base}/api/jobs/${job}/logs?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/api/jobs/${job}/logs?limit=100000`)).status).toBe(400);
    expect((await fetch(`${base}/api/jobs/${job}/logs?after=-1`)).status).toBe(400);
    expect((await fetch(`${base}/api/jobs/12345/logs`)).status).toBe(404);
  });
});
