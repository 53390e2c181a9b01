// `gust serve` end to end, releases to Serverless App Engine: push webhooks → the release deploys
// the commit's image through signed generic OpenAPI calls the SAE stand-in verifies, as a gray
// batch and manual batches of one instance (SAE's gray unit is instances: 25% of 4 is one), judged
// by a Prometheus query per version. A healthy image ends on every instance; a failing one is
// aborted and rolled back, leaving the previous image on all of them.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { tempRepo } from "../helpers/gust-cli";
import { prometheusStandIn, ReleaseRepo } from "../helpers/release-repo";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { GithubApiStandIn } from "../stand-ins/github-api";
import { SaeStandIn } from "../stand-ins/sae-stand-in";

const WEBHOOK_SECRET = "whsec-release-sae-test";
const TOKEN = "ghp_releasesaetesttoken0000000000000000000";
const ACCESS_KEY_ID = "LTAI5tGustSaeReleaseTest";
const ACCESS_KEY_SECRET = "sae-release-test-secret-0123456789";
const APP_ID = "7a1c2f0e-0000-4000-8000-000000000042";
const IMAGE = "registry.cn-hangzhou.aliyuncs.com/acme/app";

const pipelineFile = (prometheusUrl: string) => `on: {push: {branches: [main]}}
jobs:
  test:
    steps: [{run: "true"}]
release:
  target: {type: sae, region: cn-hangzhou, app-id: ${APP_ID}, image: "${IMAGE}:\${{ sha }}", min-ready-instances: 1}
  strategy:
    steps: [{weight: 25}, {analysis: {duration: 1s}}, {weight: 50}, {analysis: {duration: 1s}}]
  analysis:
    interval: 1s
    metrics:
      - name: error-rate
        prometheus: {url: "${prometheusUrl}", query: 'sum(rate(http_errors{image="{{version}}"}[{{window}}]))'}
        max: 1%
`;

describe("gust serve: releases to SAE", () => {
  let dataDir: string;
  let github: GithubApiStandIn;
  let sae: SaeStandIn;
  let prometheus: Awaited<ReturnType<typeof prometheusStandIn>>;
  const errorRates = new Map<string, number>();
  let server: RunningServer | undefined;
  let repoDir: string;
  let repo: ReleaseRepo;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-release-sae-"));
    prometheus = await prometheusStandIn(errorRates, /image="([^"]*)"/);
    sae = await SaeStandIn.start({ credentials: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET }, apps: [{ appId: APP_ID, replicas: 4, imageUrl: `${IMAGE}:v0` }], stepsPerBatch: 1 });
    repoDir = tempRepo({ "README.md": "app\n", ".gust.yml": pipelineFile(prometheus.url) }, { git: true });
    github = await GithubApiStandIn.start();
    repo = new ReleaseRepo(repoDir, github.addRepository("acme/app"), github, WEBHOOK_SECRET);
    github.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: github.baseUrl, cloneUrl: repoDir, token: TOKEN });
    const env = {
      GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      GUST_SAE_ENDPOINT: sae.endpoint,
      GUST_ALICLOUD_PROTOCOL: "http",
      GUST_ALICLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
      GUST_ALICLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    };
    server = await startServer(serveConfig(dataDir, { env }), pino({ level: "silent" }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await github?.close();
    await sae?.close();
    await prometheus?.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoDir, { recursive: true, force: true });
  });

  it("rolls a healthy image out batch by batch to every instance", async () => {
    const sha = await repo.push(server!.url, { "README.md": "v1\n" });
    errorRates.set(`${IMAGE}:${sha}`, 0);
    const check = await repo.completed(sha);
    expect(check.conclusion).toBe("success");
    expect(sae.runningVersions(APP_ID)).toEqual({ [`${IMAGE}:${sha}`]: 4 });
    expect(sae.succeeded("ConfirmPipelineBatch").length).toBeGreaterThan(0);
    expect(prometheus.queries.some((query) => query.includes(`image="${IMAGE}:${sha}"`))).toBe(true);
  }, 120_000);

  it("aborts a failing image and leaves the previous one on every instance", async () => {
    const before = sae.runningVersions(APP_ID);
    const sha = await repo.push(server!.url, { "README.md": "v2\n" });
    errorRates.set(`${IMAGE}:${sha}`, 0.2);
    const check = await repo.completed(sha);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary ?? "").toMatch(/rolled-back: analysis failed once \(error-rate 20(\.00?)?% \\?> max 1%\)/);
    expect(sae.runningVersions(APP_ID)).toEqual(before);
    expect(sae.succeeded("AbortAndRollbackChangeOrder").length + sae.succeeded("RollbackApplication").length).toBeGreaterThan(0);
  }, 120_000);
});
