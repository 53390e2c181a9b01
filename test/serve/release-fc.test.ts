// `gust serve` end to end, releases to Function Compute: push webhooks → the build job saves a
// directory (the release zips it) → the FC provider, through the real SDK and the signed
// requests the FC stand-in verifies, creates the function, publishes versions and moves the alias's
// additionalVersionWeight. Analysis reads a Prometheus stand-in with the version in the query: a
// healthy version is promoted, a failing one rolled back to exactly the alias it replaced.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prometheusStandIn, RELEASE_TEST_ACCESS_KEY, startReleaseServe } from "../helpers/release-repo";
import { startFcStandIn, type FcStandIn } from "../stand-ins/fc-stand-in";

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
  let fc: FcStandIn;
  let prometheus: Awaited<ReturnType<typeof prometheusStandIn>>;
  const errorRates = new Map<string, number>();
  let serve: Awaited<ReturnType<typeof startReleaseServe>>;

  beforeAll(async () => {
    prometheus = await prometheusStandIn(errorRates);
    fc = await startFcStandIn({ credentials: { [RELEASE_TEST_ACCESS_KEY.id]: RELEASE_TEST_ACCESS_KEY.secret } });
    const files = { "index.js": "exports.handler = async () => 'v1';\n", ".gust.yml": pipelineFile(prometheus.url) };
    serve = await startReleaseServe({ files, env: { GUST_FC_ENDPOINT: fc.endpoint } });
  }, 120_000);

  afterAll(async () => {
    await serve?.close();
    await fc?.close();
    await prometheus?.close();
  });

  const push = (code: string) => serve.push({ "index.js": code });
  const alias = () => fc.state.getAlias("hello-main", "live");

  it("creates the function and gives its first version the alias", async () => {
    const check = await serve.repo.completed(await push("exports.handler = async () => 'v1';\n"));
    expect(check.conclusion).toBe("success");
    expect(fc.state.getFunction("hello-main")).toMatchObject({ runtime: "nodejs20", handler: "index.handler", memorySize: 256 });
    expect(alias()).toMatchObject({ versionId: "1" });
    // Every call was signed: the stand-in refuses anything else.
    expect(fc.requests.every((request) => request.status < 400 || request.status === 404)).toBe(true);
  }, 120_000);

  it("promotes a version whose analysis passes, after sending it 40% through the alias", async () => {
    errorRates.set("2", 0.001);
    const check = await serve.repo.completed(await push("exports.handler = async () => 'v2';\n"));
    expect(check.conclusion).toBe("success");
    expect(alias()).toMatchObject({ versionId: "2" });
    expect(Object.keys((alias().additionalVersionWeight as Record<string, number> | undefined) ?? {})).toEqual([]);
    const weights = fc.actions("UpdateAlias").map((request) => (request.body as { additionalVersionWeight?: Record<string, number> }).additionalVersionWeight);
    expect(weights).toContainEqual({ "2": 0.4 });
    expect(prometheus.queries.some((query) => query.includes('version="2"') && /\[\d+s\]/.test(query))).toBe(true);
  }, 120_000);

  it("rolls a version whose analysis fails back to exactly the alias it replaced", async () => {
    errorRates.set("3", 0.3);
    const check = await serve.repo.completed(await push("exports.handler = async () => { throw new Error('v3'); };\n"));
    expect(check.conclusion).toBe("failure");
    expect(check.output.summary ?? "").toMatch(/rolled-back: analysis failed once \(error-rate 30(\.00?)?% \\?> max 1%\)/);
    expect(alias()).toMatchObject({ versionId: "2" });
    expect(Object.keys((alias().additionalVersionWeight as Record<string, number> | undefined) ?? {})).toEqual([]);
  }, 120_000);
});
