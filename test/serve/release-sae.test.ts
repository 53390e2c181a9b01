// `gust serve` end to end, releases to Serverless App Engine: push webhooks → the release deploys
// the commit's image through signed generic OpenAPI calls the SAE stand-in verifies, as a gray
// batch and manual batches of one instance (SAE's gray unit is instances: 25% of 4 is one), judged
// by a Prometheus query per version. A healthy image ends on every instance; a failing one is
// aborted and rolled back, leaving the previous image on all of them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prometheusStandIn, RELEASE_TEST_ACCESS_KEY, startReleaseServe } from "../helpers/release-repo";
import { SaeStandIn } from "../stand-ins/sae-stand-in";

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
  let sae: SaeStandIn;
  let prometheus: Awaited<ReturnType<typeof prometheusStandIn>>;
  const errorRates = new Map<string, number>();
  let serve: Awaited<ReturnType<typeof startReleaseServe>>;

  beforeAll(async () => {
    prometheus = await prometheusStandIn(errorRates, /image="([^"]*)"/);
    sae = await SaeStandIn.start({ credentials: { [RELEASE_TEST_ACCESS_KEY.id]: RELEASE_TEST_ACCESS_KEY.secret }, apps: [{ appId: APP_ID, replicas: 4, imageUrl: `${IMAGE}:v0` }], stepsPerBatch: 1 });
    serve = await startReleaseServe({ files: { "README.md": "app\n", ".gust.yml": pipelineFile(prometheus.url) }, env: { GUST_SAE_ENDPOINT: sae.endpoint } });
  }, 120_000);

  afterAll(async () => {
    await serve?.close();
    await sae?.close();
    await prometheus?.close();
  });

  it("rolls a healthy image out batch by batch to every instance", async () => {
    const sha = await serve.push({ "README.md": "v1\n" });
    errorRates.set(`${IMAGE}:${sha}`, 0);
    const check = await serve.repo.completed(sha);
    expect(check.conclusion).toBe("success");
    expect(sae.runningVersions(APP_ID)).toEqual({ [`${IMAGE}:${sha}`]: 4 });
    expect(sae.succeeded("ConfirmPipelineBatch").length).toBeGreaterThan(0);
    expect(prometheus.queries.some((query) => query.includes(`image="${IMAGE}:${sha}"`))).toBe(true);
  }, 120_000);

  it("aborts a failing image and leaves the previous one on every instance", async () => {
    const before = sae.runningVersions(APP_ID);
    const sha = await serve.push({ "README.md": "v2\n" });
    errorRates.set(`${IMAGE}:${sha}`, 0.2);
    const check = await serve.repo.completed(sha);
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary ?? "").toMatch(/rolled-back: analysis failed once \(error-rate 20(\.00?)?% \\?> max 1%\)/);
    expect(sae.runningVersions(APP_ID)).toEqual(before);
    expect(sae.succeeded("AbortAndRollbackChangeOrder").length + sae.succeeded("RollbackApplication").length).toBeGreaterThan(0);
  }, 120_000);
});
