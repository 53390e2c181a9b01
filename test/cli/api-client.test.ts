// The CLI's API client: where the server and token come from, what errors read like, the event
// stream parser, and following a log across a dropped connection without losing or repeating lines.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient, ApiError, apiSettings, type LogLine } from "../../src/cli/api-client";
import { followJobLog } from "../../src/cli/commands/logs";
import { readEventStream, type StreamEvent } from "../../src/cli/output/event-stream";
import { ApiDouble, type JobScript } from "./api-double";

const TOKEN = "gust_clienttest_0123456789abcdefghijklmnopqrstuvw";

describe("apiSettings", () => {
  const dir = mkdtempSync(join(tmpdir(), "gust-api-settings-"));
  mkdirSync(join(dir, ".gust"));
  writeFileSync(join(dir, ".gust", "cli-token"), "gust_from_default_dir\n");
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "cli-token"), "gust_from_data_dir\n");

  it("takes flags first, then the environment, then <data dir>/cli-token", () => {
    const env = { GUST_SERVER: "http://ci.example:9000/", GUST_TOKEN: "gust_from_env" };
    expect(apiSettings({ server: "https://gust.example/", token: "gust_from_flag" }, { env, cwd: dir })).toMatchObject({ baseUrl: "https://gust.example", token: "gust_from_flag", tokenSource: "--token" });
    expect(apiSettings({}, { env, cwd: dir })).toMatchObject({ baseUrl: "http://ci.example:9000", token: "gust_from_env", tokenSource: "GUST_TOKEN" });
    expect(apiSettings({}, { env: {}, cwd: dir })).toMatchObject({ baseUrl: "http://127.0.0.1:8080", token: "gust_from_default_dir", tokenSource: join(dir, ".gust", "cli-token") });
    expect(apiSettings({ "data-dir": "data" }, { env: {}, cwd: dir }).token).toBe("gust_from_data_dir");
    expect(apiSettings({}, { env: { GUST_DATA_DIR: join(dir, "data") }, cwd: "/" }).token).toBe("gust_from_data_dir");
    expect(apiSettings({}, { env: {}, cwd: tmpdir() })).toMatchObject({ token: undefined, tokenSource: undefined });
  });

  it("refuses a server that is not an http URL and a token that cannot be one, without echoing it", () => {
    expect(() => apiSettings({ server: "localhost:8080" }, { env: {}, cwd: dir })).toThrow(/--server expects an http or https URL, got 'localhost:8080'/);
    expect(() => apiSettings({}, { env: { GUST_SERVER: "not a url" }, cwd: dir })).toThrow(/GUST_SERVER expects a URL/);
    let message = "";
    try {
      apiSettings({}, { env: { GUST_TOKEN: "gust_secret_part\nX-Other: 1" }, cwd: dir });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/token from GUST_TOKEN has spaces or control characters/);
    expect(message).not.toContain("gust_secret_part");
  });
});

describe("ApiClient against the API double", () => {
  let double: ApiDouble;
  const client = () => new ApiClient({ baseUrl: double.url, token: TOKEN, tokenSource: "GUST_TOKEN", tokenFile: "/nowhere/cli-token" });

  beforeAll(async () => {
    double = await ApiDouble.start();
    double.tokens.set(TOKEN, ["write"]);
    double.tokens.set("gust_readonly", ["read"]);
    double.addRepository("acme/app");
  });
  afterAll(async () => {
    await double.close();
  });

  it("sends the token as a bearer token and reads answers", async () => {
    const [repository] = await client().listRepositories("acme/app");
    expect(repository).toMatchObject({ id: 1, forge: "github", fullName: "acme/app" });
    expect(double.requests.at(-1)).toMatchObject({ method: "GET", path: "/api/repositories?name=acme%2Fapp", authorization: `Bearer ${TOKEN}` });
    expect(await client().listRepositories("acme/other")).toEqual([]);
  });

  it("turns error bodies into ApiError with the server's message, code and field", async () => {
    const error = await client()
      .trigger(1, { inputs: { list: [1, 2] as unknown as string } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "invalid_request", field: "inputs.list", message: "inputs.list must be a string, number or boolean", fault: "user", retryable: false });
    expect(await client().getPipeline(999).catch((e: ApiError) => [e.status, e.code, e.message])).toEqual([404, "not_found", "pipeline 999 not found"]);
  });

  it("says how to get a token on 401 and never shows the token", async () => {
    const refused = new ApiClient({ baseUrl: double.url, token: "gust_revoked_token_value", tokenSource: "--token", tokenFile: "/d/cli-token" });
    const error = (await refused.listRepositories().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(401);
    expect(error.message).toContain("this token is not valid");
    expect(error.message).toContain("the token from --token was refused; create a token with `gust token create`");
    expect(error.message).not.toContain("gust_revoked_token_value");
    const none = new ApiClient({ baseUrl: double.url, token: undefined, tokenSource: undefined, tokenFile: "/d/cli-token" });
    const missing = (await none.listRepositories().catch((e: unknown) => e)) as ApiError;
    expect(double.requests.at(-1)!.authorization).toBeUndefined();
    expect(missing.message).toContain("no token was found (--token, GUST_TOKEN or /d/cli-token); create a token with `gust token create`");
    const readOnly = new ApiClient({ baseUrl: double.url, token: "gust_readonly", tokenSource: "GUST_TOKEN", tokenFile: "" });
    expect(await readOnly.cancelPipeline(1).catch((e: ApiError) => [e.status, e.message])).toEqual([403, "this token lacks the 'write' scope"]);
  });

  it("asks whether gust serve runs when the connection is refused", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const error = (await new ApiClient({ baseUrl: url, token: TOKEN, tokenSource: "GUST_TOKEN", tokenFile: "" }).listRepositories().catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 0, code: "connection_refused", retryable: true, fault: "infrastructure" });
    expect(error.message).toBe(`cannot connect to ${url}: connection refused — is \`gust serve\` running at ${url}?`);
  });

  it("follows a log across a connection cut mid-event: every line once, in order, resumed from the last whole line", async () => {
    const lines = Array.from({ length: 9 }, (_, i) => ({ step: i < 4 ? 0 : 1, stream: i % 3 === 2 ? ("stderr" as const) : ("stdout" as const), text: `line ${i + 1}` }));
    const job = addJob(double, { name: "build", steps: ["install", "test"], lines, final: "success", dropAfter: 4 });
    const seen: LogLine[] = [];
    const last = await followJobLog(client(), job, { after: 0, onLine: (line) => seen.push(line), retry: { firstDelayMs: 10 } });
    expect(seen.map((line) => line.text)).toEqual(lines.map((line) => line.text));
    expect(seen.map((line) => line.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(last).toBe(9);
    const streams = double.requests.filter((r) => r.path.startsWith(`/api/jobs/${job}/logs/stream`));
    expect(streams.map((r) => r.lastEventId)).toEqual(["0", "4"]);
    expect(streams[1]!.path).toBe(`/api/jobs/${job}/logs/stream?after=4`);
  });

  it("fills lines the stream skipped from the log pages, and ends at the end event", async () => {
    double.pageSize = 2;
    try {
      const lines = Array.from({ length: 7 }, (_, i) => ({ step: 0, stream: "stdout" as const, text: `out ${i + 1}` }));
      const job = addJob(double, { name: "gappy", steps: ["run"], lines, final: "failure", omitFromStream: [3, 4, 7] });
      const seen: number[] = [];
      await followJobLog(client(), job, { after: 2, onLine: (line) => seen.push(line.number) });
      expect(seen).toEqual([3, 4, 5, 6, 7]);
    } finally {
      double.pageSize = 50;
    }
  });

  it("gives up on a refusal at once instead of reconnecting", async () => {
    await expect(followJobLog(client(), 123_456, { after: 0, onLine: () => {} })).rejects.toMatchObject({ status: 404, code: "not_found" });
  });
});

describe("readEventStream", () => {
  async function parse(chunks: Array<string | Uint8Array>): Promise<StreamEvent[]> {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
        controller.close();
      },
    });
    const events: StreamEvent[] = [];
    for await (const event of readEventStream(body)) events.push(event);
    return events;
  }

  it("cuts events at blank lines whatever the chunking and line ends, skipping comments", async () => {
    const text = 'retry: 2000\r\n\r\n: heartbeat\n\nid: 1\nevent: line\ndata: {"a":1}\n\nid: 2\revent: line\rdata: first \u2713\rdata: second\r\rdata: plain\r\n\r\nevent: end\ndata: {"lastLine":2}\n\n';
    const expected: StreamEvent[] = [
      { id: "1", event: "line", data: '{"a":1}' },
      { id: "2", event: "line", data: "first \u2713\nsecond" },
      { event: "message", data: "plain" },
      { event: "end", data: '{"lastLine":2}' },
    ];
    expect(await parse([text])).toEqual(expected);
    // Every split point, including between the CR and LF of a CRLF and inside a multibyte character.
    const bytes = new TextEncoder().encode(text);
    for (let at = 1; at < bytes.length; at++) expect(await parse([bytes.slice(0, at), bytes.slice(at)])).toEqual(expected);
  });

  it("drops an event the stream ended in the middle of", async () => {
    expect(await parse(["id: 1\ndata: whole\n\nid: 2\ndata: half"])).toEqual([{ id: "1", event: "message", data: "whole" }]);
  });
});

let nextPipeline = 0;
function addJob(double: ApiDouble, script: JobScript): number {
  const pipeline = double.addPipeline(1, `p${++nextPipeline}`, [script]);
  return double.jobsOf(pipeline.id)[0]!.job.id;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
