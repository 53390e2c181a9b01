// The runner API over a real socket, with the file blob store in a temp data directory: tokens
// decide what a pod may read and write, tars go up and come back whole, cache keys resolve exactly
// or by restore prefix, sources come from a commit or a directory, oversized uploads get 413.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walkFiles } from "../../src/executors/local/walk-files";
import { createRunnerApi, FileBlobStore, mintRunnerToken, RUNNER_API_BASE_PATH, type RunnerTokenGrant } from "../../src/runner-api";
import { packFiles, unpackInto } from "../../src/runner/tar-stream";

const LIMIT = 256 * 1024;
const key = randomBytes(32);
let root: string;
let dataDir: string;
let server: ServerType;
let base: string;
let repo: string;
let firstCommit: string;

const grant = (overrides: Partial<RunnerTokenGrant> = {}): RunnerTokenGrant => ({
  run: "run-1",
  pipelineRun: "pr-1",
  job: "build",
  needs: [],
  cacheScope: "repo-1",
  ...overrides,
});
const token = (overrides: Partial<RunnerTokenGrant> = {}): string => mintRunnerToken(key, grant(overrides), 60_000);

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
  }).trim();
}

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(root, "tree-"));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

/** The tar of every file under `dir`, as bytes. */
async function tarOf(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of packFiles(dir, (await walkFiles(dir)).sort())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** path → content of every file under `dir`. */
async function contents(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const file of (await walkFiles(dir)).sort()) result[file] = await readFile(path.join(dir, file), "utf8");
  return result;
}

async function unpacked(response: Response): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(root, "out-"));
  await unpackInto(dir, Readable.fromWeb(response.body! as import("node:stream/web").ReadableStream<Uint8Array>));
  return contents(dir);
}

function call(method: string, route: string, bearer: string | null, body?: Buffer): Promise<Response> {
  return fetch(`${base}${RUNNER_API_BASE_PATH}${route}`, {
    method,
    headers: bearer === null ? {} : { Authorization: `Bearer ${bearer}` },
    ...(body ? { body } : {}),
  });
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "gust-runner-api-"));
  dataDir = path.join(root, "data");
  repo = path.join(root, "repo");
  await mkdir(repo);
  git(repo, "init", "--quiet");
  await writeFile(path.join(repo, "version.txt"), "one\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "one");
  firstCommit = git(repo, "rev-parse", "HEAD");
  await writeFile(path.join(repo, "version.txt"), "two\n");
  await writeFile(path.join(repo, "added.txt"), "added\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "two");

  const app = new Hono().route(RUNNER_API_BASE_PATH, createRunnerApi({ tokenKey: key, blobs: new FileBlobStore(dataDir), maxUploadBytes: LIMIT, sourceExclude: [dataDir] }));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if ("closeAllConnections" in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(root, { recursive: true, force: true });
});

describe("authentication", () => {
  it("answers 401 without a token, with a forged one and with an expired one", async () => {
    expect((await call("GET", "/artifacts/build", null)).status).toBe(401);
    expect((await call("GET", "/artifacts/build", `${token()}x`)).status).toBe(401);
    const expired = mintRunnerToken(key, grant(), 1, Date.now() - 1000);
    const response = await call("GET", "/artifacts/build", expired);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("runner_token_expired");
  });
});

describe("artifacts", () => {
  it("stores a job's tar and hands it to a job that needs it", async () => {
    const files = { "dist/app.js": "console.log(1)\n", "dist/nested/data.txt": "data\n" };
    const put = await call("PUT", "/artifacts", token({ job: "build" }), await tarOf(await tree(files)));
    expect(put.status).toBe(201);
    const get = await call("GET", "/artifacts/build", token({ job: "test", needs: ["build"] }));
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("application/x-tar");
    expect(await unpacked(get)).toEqual(files);
  });

  it("replaces an earlier attempt's artifacts", async () => {
    await call("PUT", "/artifacts", token({ job: "retried" }), await tarOf(await tree({ "a.txt": "first\n" })));
    await call("PUT", "/artifacts", token({ job: "retried", run: "run-2" }), await tarOf(await tree({ "b.txt": "second\n" })));
    expect(await unpacked(await call("GET", "/artifacts/retried", token({ job: "x", needs: ["retried"] })))).toEqual({ "b.txt": "second\n" });
  });

  it("answers 403 for a job the token does not need, 404 for one that published nothing", async () => {
    const forbidden = await call("GET", "/artifacts/build", token({ job: "lint", needs: ["other"] }));
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { message: string } }).error.message).toMatch(/lint does not need build/);
    expect((await call("GET", "/artifacts/other", token({ job: "lint", needs: ["other"] }))).status).toBe(404);
  });

  it("keeps pipeline runs apart", async () => {
    expect((await call("GET", "/artifacts/build", token({ pipelineRun: "pr-2", job: "test", needs: ["build"] }))).status).toBe(404);
  });

  it("answers 413 for a declared length over the limit, and for a chunked body that grows past it", async () => {
    const big = randomBytes(LIMIT + 1);
    expect((await call("PUT", "/artifacts", token({ job: "huge" }), big)).status).toBe(413);
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${base}${RUNNER_API_BASE_PATH}/artifacts`, { method: "PUT", headers: { Authorization: `Bearer ${token({ job: "huge" })}` } });
      request.on("response", (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", reject);
      // Chunked: no Content-Length, so only counting while reading catches it.
      for (let sent = 0; sent <= LIMIT; sent += 64 * 1024) request.write(randomBytes(64 * 1024));
      request.end();
    });
    expect(status).toBe(413);
    expect((await call("GET", "/artifacts/huge", token({ job: "x", needs: ["huge"] }))).status).toBe(404);
    expect((await readdir(path.join(dataDir, "runner", "artifacts", "pr-1"))).filter((name) => name.startsWith(".tmp-"))).toEqual([]);
  });
});

describe("cache", () => {
  const get = (query: string, scope = "repo-1"): Promise<Response> => call("GET", `/cache?${query}`, token({ cacheScope: scope }));

  it("saves a key once, restores it exactly, and by restore prefix the newest match", async () => {
    const saved = await call("PUT", `/cache/${encodeURIComponent("deps-linux/aaa")}`, token(), await tarOf(await tree({ "node_modules/a.js": "a\n" })));
    expect(saved.status).toBe(201);
    const again = await call("PUT", `/cache/${encodeURIComponent("deps-linux/aaa")}`, token(), await tarOf(await tree({ "node_modules/other.js": "no\n" })));
    expect(again.status).toBe(409);
    await call("PUT", `/cache/${encodeURIComponent("deps-linux/bbb")}`, token(), await tarOf(await tree({ "node_modules/b.js": "b\n" })));

    const exact = await get("key=deps-linux%2Faaa&restore=deps-");
    expect(exact.status).toBe(200);
    expect(decodeURIComponent(exact.headers.get("gust-cache-key")!)).toBe("deps-linux/aaa");
    expect(await unpacked(exact)).toEqual({ "node_modules/a.js": "a\n" });

    const prefix = await get("key=deps-linux%2Fccc&restore=nothing-&restore=deps-linux%2F");
    expect(prefix.status).toBe(200);
    expect(decodeURIComponent(prefix.headers.get("gust-cache-key")!)).toBe("deps-linux/bbb");
    expect(await unpacked(prefix)).toEqual({ "node_modules/b.js": "b\n" });
  });

  it("answers 404 on a miss, and keeps scopes apart", async () => {
    expect((await get("key=deps-linux%2Fccc&restore=other-")).status).toBe(404);
    expect((await get("key=deps-linux%2Faaa&restore=deps-", "repo-2")).status).toBe(404);
    expect((await get("restore=deps-")).status).toBe(400);
  });
});

describe("source", () => {
  it("streams the tree of a commit of a local repository", async () => {
    const response = await call("GET", "/source", token({ source: { kind: "git-local", path: repo, commit: firstCommit } }));
    expect(response.status).toBe(200);
    expect(await unpacked(response)).toEqual({ "version.txt": "one\n" });
  });

  it("answers 404 for a commit the repository does not have, and for a job without a served source", async () => {
    expect((await call("GET", "/source", token({ source: { kind: "git-local", path: repo, commit: "f".repeat(40) } }))).status).toBe(404);
    expect((await call("GET", "/source", token())).status).toBe(404);
  });

  it("streams a work tree as the local executor copies it: tracked and unignored files, not Gust's data", async () => {
    const dir = await tree({ ".gitignore": "node_modules/\n", "src/main.js": "main\n", "node_modules/dep.js": "dep\n", "notes.txt": "untracked\n", "data/x": "gust data\n" });
    git(dir, "init", "--quiet");
    git(dir, "add", ".gitignore", "src/main.js");
    // Gust's data directory inside the served directory: excluded, as the local executor excludes its own.
    const app = new Hono().route(RUNNER_API_BASE_PATH, createRunnerApi({ tokenKey: key, blobs: new FileBlobStore(path.join(dir, "data")), maxUploadBytes: LIMIT, sourceExclude: [path.join(dir, "data")] }));
    const response = await app.request(`${RUNNER_API_BASE_PATH}/source`, { headers: { Authorization: `Bearer ${token({ source: { kind: "directory", path: dir } })}` } });
    expect(response.status).toBe(200);
    expect(await unpacked(response)).toEqual({ ".gitignore": "node_modules/\n", "notes.txt": "untracked\n", "src/main.js": "main\n" });
  });

  it("streams a plain directory whole", async () => {
    const dir = await tree({ "a.txt": "a\n", "deep/b.txt": "b\n" });
    const response = await call("GET", "/source", token({ source: { kind: "directory", path: dir } }));
    expect(await unpacked(response)).toEqual({ "a.txt": "a\n", "deep/b.txt": "b\n" });
  });
});
