// The stand-ins refuse what the real APIs refuse, in the real APIs' words; otherwise a forge could
// pass its tests with requests GitHub or GitLab would reject.
import { createSign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GithubApiStandIn } from "../stand-ins/github-api";
import { GitlabApiStandIn } from "../stand-ins/gitlab-api";
import { appKeyPair } from "./harnesses";

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers: { "content-type": "application/json", ...init.headers },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text };
}

function jwt(privateKey: string, claims: Record<string, unknown>, alg = "RS256"): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg, typ: "JWT" })}.${part(claims)}`;
  const signature = createSign("RSA-SHA256").update(unsigned).sign(privateKey).toString("base64url");
  return `${unsigned}.${signature}`;
}

describe("GitHub stand-in", () => {
  let api: GithubApiStandIn;
  let sha: string;
  const keys = appKeyPair();
  const auth = { authorization: "token ghp_all" };

  beforeAll(async () => {
    api = await GithubApiStandIn.start();
    sha = api.addRepository("acme/api").commit({ "a.txt": "a" });
    api.addToken("ghp_all", { contents: "read", checks: "write", statuses: "write" });
    api.configureApp({ appId: "77", key: keys.publicKey, permissions: { checks: "write" }, installations: { "acme/api": 3 } });
  });
  afterAll(() => api.close());

  const runs = () => `${api.baseUrl}/repos/acme/api/check-runs`;

  it("wants credentials, and GitHub's 401 body", async () => {
    expect(await call(runs(), { method: "POST", body: { name: "x", head_sha: sha } })).toMatchObject({
      status: 401,
      body: { message: "Requires authentication", documentation_url: expect.stringContaining("docs.github.com") },
    });
  });

  it("validates check run bodies as GitHub does (422)", async () => {
    const post = (body: unknown) => call(runs(), { method: "POST", headers: auth, body });
    expect(await post({ head_sha: sha })).toMatchObject({ status: 422, body: { message: `Invalid request.\n\n"name" wasn't supplied.` } });
    expect(await post({ name: 42, head_sha: sha })).toMatchObject({ status: 422, body: { message: "Invalid request.\n\nFor 'properties/name', 42 is not a string." } });
    expect(await post({ name: "x", head_sha: sha, status: "completed" })).toMatchObject({ status: 422, body: { message: expect.stringContaining(`"conclusion" wasn't supplied`) } });
    expect(await post({ name: "x", head_sha: sha, output: { title: "t", summary: "s", text: "x".repeat(65_536) } })).toMatchObject({
      status: 422,
      body: { message: "Invalid request.\n\nOnly 65535 characters are allowed; 65536 were supplied." },
    });
    expect(await post({ name: "x", head_sha: "b".repeat(40) })).toMatchObject({ status: 422, body: { message: `No commit found for SHA: ${"b".repeat(40)}` } });
    expect(await post({ name: "x", head_sha: sha, conclusion: "success" })).toMatchObject({ status: 201, body: { status: "completed", conclusion: "success", html_url: expect.stringMatching(/\/runs\/\d+$/) } });
  });

  it("validates commit statuses (state, 140-character description)", async () => {
    const post = (body: unknown) => call(`${api.baseUrl}/repos/acme/api/statuses/${sha}`, { method: "POST", headers: auth, body });
    expect(await post({ state: "done" })).toMatchObject({ status: 422, body: { message: "Validation Failed", errors: [expect.objectContaining({ field: "state" })] } });
    expect(await post({ state: "success", description: "d".repeat(141) })).toMatchObject({ status: 422, body: { errors: [expect.objectContaining({ field: "description" })] } });
    expect(await post({ state: "success" })).toMatchObject({ status: 201, body: { context: "default", state: "success" } });
  });

  it("answers unknown paths and methods with 404", async () => {
    expect((await call(`${runs()}/1`, { method: "DELETE", headers: auth })).status).toBe(404);
    expect((await call(`${api.baseUrl}/repos/acme/nothing/git/trees/${sha}`, { headers: auth })).status).toBe(404);
  });

  it("accepts only RS256 JWTs signed by the App's key, within GitHub's ten minutes", async () => {
    const now = Math.floor(Date.now() / 1000);
    const installation = (token: string) => call(`${api.baseUrl}/repos/acme/api/installation`, { headers: { authorization: `Bearer ${token}` } });
    expect(await installation(jwt(keys.privateKey, { iat: now - 30, exp: now + 540, iss: "77" }))).toMatchObject({ status: 200, body: { id: 3 } });
    expect(await installation(jwt(appKeyPair().privateKey, { iat: now - 30, exp: now + 540, iss: "77" }))).toMatchObject({ status: 401 });
    expect(await installation(jwt(keys.privateKey, { iat: now, exp: now + 3600, iss: "77" }))).toMatchObject({ status: 401, body: { message: expect.stringContaining("too far in the future") } });
    expect(await installation(jwt(keys.privateKey, { iat: now - 30, exp: now + 540, iss: "78" }))).toMatchObject({ status: 401 });
    expect(await installation(jwt(keys.privateKey, { iat: now - 30, exp: now + 540, iss: "77" }, "HS256"))).toMatchObject({ status: 401 });
    // A plain token cannot use App endpoints, and a JWT cannot use repository endpoints.
    expect((await installation("ghp_all")).status).toBe(401);
    const token = jwt(keys.privateKey, { iat: now - 30, exp: now + 540, iss: "77" });
    expect((await call(runs(), { method: "POST", headers: { authorization: `Bearer ${token}` }, body: { name: "x", head_sha: sha } })).status).toBe(403);
  });
});

describe("GitLab stand-in", () => {
  let api: GitlabApiStandIn;
  let sha: string;
  const auth = { "private-token": "glpat-x" };

  beforeAll(async () => {
    api = await GitlabApiStandIn.start();
    sha = api.addProject("acme/api").commit({ "a.txt": "a" });
    api.addToken("glpat-x", ["api"]);
  });
  afterAll(() => api.close());

  const statuses = () => `${api.host}/api/v4/projects/acme%2Fapi/statuses/${sha}`;

  it("wants a token", async () => {
    expect(await call(statuses(), { method: "POST", body: { state: "pending" } })).toEqual(expect.objectContaining({ status: 401, body: { message: "401 Unauthorized" } }));
  });

  it("validates like Grape (400 with error) and walks GitLab's status state machine", async () => {
    const post = (body: unknown) => call(statuses(), { method: "POST", headers: auth, body });
    expect(await post({})).toMatchObject({ status: 400, body: { error: "state is missing" } });
    expect(await post({ state: "done" })).toMatchObject({ status: 400, body: { error: "state does not have a valid value" } });
    expect(await post({ state: "running", name: "n" })).toMatchObject({ status: 201, body: { status: "running", name: "n" } });
    expect(await post({ state: "running", name: "n" })).toMatchObject({ status: 400, body: { message: expect.stringContaining("Cannot transition status via :run from :running") } });
    expect(await post({ state: "success", name: "n" })).toMatchObject({ status: 201, body: { status: "success" } });
    // A finished status is not moved again: the next post starts a new one.
    expect(await post({ state: "pending", name: "n" })).toMatchObject({ status: 201, body: { status: "pending" } });
    expect(api.statuses("acme/api", sha)).toHaveLength(2);
  });

  it("says which thing is missing in a 404", async () => {
    expect(await call(`${api.host}/api/v4/projects/acme%2Fapi/repository/files/nope.yml/raw?ref=${sha}`, { headers: auth })).toMatchObject({ status: 404, body: { message: "404 File Not Found" } });
    expect(await call(`${api.host}/api/v4/projects/acme%2Fapi/repository/files/a.txt/raw?ref=${"c".repeat(40)}`, { headers: auth })).toMatchObject({ status: 404, body: { message: "404 Commit Not Found" } });
    expect(await call(`${api.host}/api/v4/projects/acme%2Fnone/repository/files/a.txt/raw?ref=${sha}`, { headers: auth })).toMatchObject({ status: 404, body: { message: "404 Project Not Found" } });
  });
});
