// GitHub App credentials: JWT (RS256, verified by the stand-in against the public key) →
// installation looked up per repository → installation token, reused until shortly before it
// expires, replaced when GitHub rejects it.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ForgeError } from "../../src/errors";
import { GithubForge } from "../../src/forges/github";
import { GithubApiStandIn } from "../stand-ins/github-api";
import { appKeyPair } from "./harnesses";

const APP_ID = "424242";
const INSTALLATION = 777;

describe("GitHub App authentication", () => {
  let keys: { privateKey: string; publicKey: string };
  let api: GithubApiStandIn;
  let sha: string;
  let clock: number;

  beforeAll(() => {
    keys = appKeyPair();
  });
  beforeEach(async () => {
    api = await GithubApiStandIn.start();
    sha = api.addRepository("acme/api").commit({ ".gust.yml": "jobs: {}\n" });
    api.addRepository("acme/web").commit({});
    api.addRepository("other/elsewhere").commit({});
    api.configureApp({
      appId: APP_ID,
      key: keys.publicKey,
      permissions: { contents: "read", checks: "write", statuses: "write", pull_requests: "read", metadata: "read" },
      installations: { "acme/api": INSTALLATION, "acme/web": INSTALLATION },
    });
    clock = Date.now();
  });
  afterEach(async () => {
    await api.close();
  });

  const forge = (privateKey = keys.privateKey) =>
    new GithubForge({ baseUrl: api.baseUrl, credentials: { appId: APP_ID, privateKey }, now: () => clock });
  const lookups = () => api.requests.filter((request) => /\/installation$/.test(request.rawPath));
  const tokenRequests = () => api.requests.filter((request) => /\/access_tokens$/.test(request.rawPath));

  it("signs a JWT, finds the installation, and calls with the installation token", async () => {
    expect(await forge().readFile("acme/api", sha, ".gust.yml")).toBe("jobs: {}\n");

    const [lookup] = lookups();
    const [tokenRequest] = tokenRequests();
    expect(lookup?.method).toBe("GET");
    expect(tokenRequest?.rawPath).toBe(`/api/v3/app/installations/${INSTALLATION}/access_tokens`);
    const jwt = String(lookup?.headers.authorization).replace(/^bearer /i, "");
    const [header, claims] = jwt.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")));
    expect(header).toMatchObject({ alg: "RS256" });
    expect(String(claims.iss)).toBe(APP_ID);
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(600);

    const read = api.requests.find((request) => request.rawPath.includes("/contents/"));
    expect(read?.headers.authorization).toBe(`token ${api.credentials.mintedTokens[0]?.token}`);
  });

  it("reuses the installation and its token, across repositories of the same installation", async () => {
    const github = forge();
    await github.readFile("acme/api", sha, ".gust.yml");
    await github.readFile("acme/api", sha, "README.md");
    await github.listPipelineFiles("acme/api", sha);
    expect(lookups()).toHaveLength(1);
    expect(tokenRequests()).toHaveLength(1);
    await github.readFile("acme/web", sha, "x").catch(() => undefined);
    // A second repository needs its own lookup, but the installation's token is shared.
    expect(lookups()).toHaveLength(2);
    expect(tokenRequests()).toHaveLength(1);
  });

  it("shares one lookup and one token between concurrent first calls", async () => {
    const github = forge();
    await Promise.all(Array.from({ length: 5 }, () => github.readFile("acme/api", sha, ".gust.yml")));
    expect(lookups()).toHaveLength(1);
    expect(tokenRequests()).toHaveLength(1);
  });

  it("replaces the token shortly before it expires", async () => {
    const github = forge();
    await github.readFile("acme/api", sha, ".gust.yml");
    clock += 50 * 60_000;
    await github.readFile("acme/api", sha, ".gust.yml");
    expect(tokenRequests()).toHaveLength(1);
    // Inside the last five minutes of the hour GitHub gives a token.
    clock += 6 * 60_000;
    await github.readFile("acme/api", sha, ".gust.yml");
    expect(tokenRequests()).toHaveLength(2);
    expect(lookups()).toHaveLength(1);
    const [first, second] = api.credentials.mintedTokens;
    const last = api.requests.filter((request) => request.rawPath.includes("/contents/")).at(-1);
    expect(last?.headers.authorization).toBe(`token ${second?.token}`);
    expect(second?.token).not.toBe(first?.token);
  });

  it("replaces a token GitHub rejects before its time, within the same call", async () => {
    const github = forge();
    await github.readFile("acme/api", sha, ".gust.yml");
    // GitHub says the token is gone although the forge's clock says it still has minutes.
    const minted = api.credentials.mintedTokens.length;
    api.credentials.expireAll();
    expect(await github.readFile("acme/api", sha, ".gust.yml")).toBe("jobs: {}\n");
    expect(api.credentials.mintedTokens).toHaveLength(minted + 1);
    // The installation is looked up again too: a reinstalled App has a new one.
    expect(lookups()).toHaveLength(2);
  });

  it("gives up when even a new installation token is refused", async () => {
    const github = forge();
    await github.readFile("acme/api", sha, ".gust.yml");
    api.credentials.refuseInstallationTokens = true;
    const error = await github.readFile("acme/api", sha, ".gust.yml").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "forge_unauthorized", retryable: false, status: 401 });
    expect((error as Error).message).toMatch(/even a new installation token of GitHub App 424242 was refused/);
    expect(tokenRequests()).toHaveLength(2);
  });

  it("says when the App is not installed on the repository", async () => {
    const error = await forge().readFile("other/elsewhere", sha, ".gust.yml").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ForgeError);
    expect(error).toMatchObject({ code: "forge_not_installed", retryable: false, fault: "infrastructure" });
    expect((error as Error).message).toMatch(/GitHub App 424242 is not installed on other\/elsewhere.*install the App/);
    expect(tokenRequests()).toHaveLength(0);
  });

  it("says the App's id or private key is wrong when GitHub rejects the JWT", async () => {
    const error = await forge(appKeyPair().privateKey)
      .readFile("acme/api", sha, ".gust.yml")
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "forge_unauthorized", retryable: false, status: 401 });
    expect((error as Error).message).toMatch(/GitHub App 424242's id or private key is wrong/);
  });

  it("reports as the App with check runs", async () => {
    const receipt = await forge().reportJob("acme/api", { sha, ref: "refs/heads/main", pipelineName: "ci", jobKey: "build", jobName: "build", state: "queued" });
    expect(receipt.via).toBe("checks");
    expect(api.checkRuns("acme/api", sha)).toEqual([expect.objectContaining({ name: "ci / build", status: "queued", id: Number(receipt.reportId) })]);
  });
});
