// `gust serve` end to end, releases to Function Compute: push webhooks → the build job zips nothing
// by hand (the release zips the artifact) → the FC provider, through the real SDK and the signed
// requests the FC stand-in verifies, creates the function, publishes versions and moves the alias's
// additionalVersionWeight. Analysis reads a Prometheus stand-in with the version in the query: a
// healthy version is promoted, a failing one rolled back to exactly the alias it replaced.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { tempRepo } from "../helpers/gust-cli";
import { prometheusStandIn, ReleaseRepo } from "../helpers/release-repo";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { startFcStandIn, type FcStandIn } from "../stand-ins/fc-stand-in";
import { GithubApiStandIn } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-release-fc-test";
const TOKEN = "ghp_releasefctesttoken00000000000000000000";
const ACCESS_KEY_ID = "LTAI5tGustReleaseTest";
const ACCESS_KEY_SECRET = "release-test-secret-0123456789abcdef";

const pipelineFile = (prometheusUrl: string) => `on: {push: {branches: [main]}}
jobs:
  build:
    steps:
      - run: mkdir -p dist && cp index.js dist/
    artifacts: {paths: [dist]}
release:
  artifact: {from: build, path: dist}
  target: {type: fc, region: cn-hangzhou, function: "hello-\${{ branch }}", alias: live, runtime: nodejs20, handler: index.handler, memory-mb: 256}
  strategy:
    steps: [{weight: 40}, {analysis: {duration: 1s}}]
  analysis:
    interval: 1s
    metrics:
      - name: error-rate
        prometheus: {url: "${prometheusUrl}", query: 'sum(rate(fc_errors{version="{{version}}"}[{{window}}]))'}
        max: 1%
`;

describe("gust serve: releases to Function Compute", () => {
  let dataDir: string;
  let github: GithubApiStandIn;
  let fc: FcStandIn;
  let prometheus: Awaited<ReturnType<typeof prometheusStandIn>>;
  const errorRates = new Map<string, number>();
  let server: RunningServer | undefined;
  let repoDir: string;
  let repo: ReleaseRepo;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-release-fc-"));
    prometheus = await prometheusStandIn(errorRates);
    fc = await startFcStandIn({ credentials: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET } });
    repoDir = tempRepo({ "index.js": "exports.handler = async () => 'v1';\n", ".gust.yml": pipelineFile(prometheus.url) }, { git: true });
    github = await GithubApiStandIn.start();
    repo = new ReleaseRepo(repoDir, github.addRepository("acme/app"), github, WEBHOOK_SECRET);
    github.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: github.baseUrl, cloneUrl: repoDir, token: TOKEN });
    const env = {
      GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      GUST_FC_ENDPOINT: fc.endpoint,
      GUST_ALICLOUD_PROTOCOL: "http",
      GUST_ALICLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
      GUST_ALICLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    server = await startServer(serveConfig(dataDir, { env }), pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await fc?.close();
    await prometheus?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  const push = (code: string) => repo.push(server!.url, { "index.js": code });
  const alias = () => fc.state.getAlias("hello-main", "live");

  it("creates the function and gives its first version the alias", async () => {
    const check = await repo.completed(await push("exports.handler = async () => 'v1';\n"));
    expect(check.conclusion).toBe("success");
    expect(fc.state.getFunction("hello-main")).toMatchObject({ runtime: "nodejs20", handler: "index.handler", memorySize: 256 });
    expect(alias()).toMatchObject({ versionId: "1" });
    // Every call was signed: the stand-in refuses anything else.
    expect(fc.requests.every((request) => request.status < 400 || request.status === 404)).toBe(true);
  }, 120_000);

  it("promotes a version whose analysis passes, after sending it 40% through the alias", async () => {
    errorRates.set("2", 0.001);
    const check = await repo.completed(await push("exports.handler = async () => 'v2';\n"));
    expect(check.conclusion).toBe("success");
    expect(alias()).toMatchObject({ versionId: "2" });
    expect(Object.keys((alias().additionalVersionWeight as Record<string, number> | undefined) ?? {})).toEqual([]);
    const weights = fc.actions("UpdateAlias").map((request) => (request.body as { additionalVersionWeight?: Record<string, number> }).additionalVersionWeight);
    expect(weights).toContainEqual({ "2": 0.4 });
    expect(prometheus.queries.some((query) => query.includes('version="2"') && /\[\d+s\]/.test(query))).toBe(true);
  }, 120_000);

  it("rolls a version whose analysis fails back to exactly the alias it replaced", async () => {
    errorRates.set("3", 0.3);
    const check = await repo.completed(await push("exports.handler = async () => { throw new Error('v3'); };\n"));
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary ?? "").toMatch(/rolled-back: analysis failed once \(error-rate 30(\.00?)?% \\?> max 1%\)/);
    expect(alias()).toMatchObject({ versionId: "2" });
    expect(Object.keys((alias().additionalVersionWeight as Record<string, number> | undefined) ?? {})).toEqual([]);
  }, 120_000);
});
