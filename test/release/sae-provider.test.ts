// The SAE provider against the loopback SAE stand-in (real SDK, real signatures): the shared
// DeployProvider contract without and with grey tag routes, then what is particular to SAE.
import { afterEach, describe, expect, it } from "vitest";
import { isGustError } from "../../src/errors";
import { describeProviderContract } from "../contract/deploy-provider-contract";
import { saeFixture, saeHarness, SEED_IMAGE, type SaeFixture } from "../stand-ins/sae-stand-in-harness";

describeProviderContract("sae", saeHarness());
describeProviderContract("sae with grey tag routes on an ALB ingress", saeHarness({ greyTagRoutes: { kind: "alb", ingressId: "23" } }));

const fixtures: SaeFixture[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});

async function fresh(options: Parameters<typeof saeFixture>[0] = {}) {
  const fixture = await saeFixture(options);
  fixtures.push(fixture);
  return fixture;
}

describe("sae provider", () => {
  it("puts ceil(weight·N/100) instances on the canary and reports their share, never less", async () => {
    const { provider, image, standIn, appId } = await fresh({ replicas: 3 });
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    const live = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 10 } });
    expect(live.canary!.version).toBe(v2);
    expect(live.canary!.weight).toBeCloseTo(100 / 3, 6);
    expect(standIn.runningVersions(appId)).toEqual({ [v1]: 2, [v2]: 1 });
    // The reported weight applied again is the same instance count: nothing moves.
    const calls = standIn.calls.length;
    expect(await sae.setTraffic(live)).toEqual(live);
    expect(standIn.calls.slice(calls).filter((call) => ["DeployApplication", "ConfirmPipelineBatch", "AbortAndRollbackChangeOrder"].includes(call.action))).toEqual([]);
    // Above half of 3 instances: the gray batch stays at 1 (SAE's rule) and a batch is confirmed.
    const more = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } });
    expect(more.canary!.weight).toBeCloseTo(200 / 3, 6);
    expect(standIn.runningVersions(appId)).toEqual({ [v1]: 1, [v2]: 2 });
  });

  it("starts a gray batch of at most half the instances and confirms later batches one by one", async () => {
    const { provider, image, standIn, appId } = await fresh({ replicas: 5 });
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    const live = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 80 } });
    expect(live).toEqual({ stable: v1, canary: { version: v2, weight: 80 } });
    const deploys = standIn.succeeded("DeployApplication");
    expect(JSON.parse(String(JSON.stringify(deploys.at(-1)!.params["UpdateStrategy"])))).toEqual({ type: "GrayBatchUpdate", grayUpdate: { gray: 2 }, batchUpdate: { batch: 3, releaseType: "manual" } });
    const confirms = standIn.succeeded("ConfirmPipelineBatch").map((call) => call.params["PipelineId"]);
    const order = standIn.changeOrders(appId)[0]!;
    expect(confirms).toEqual([order.pipelines[1]!.pipelineId, order.pipelines[2]!.pipelineId]);
    expect(order.pipelines.map((pipeline) => pipeline.status)).toEqual([2, 2, 2, 8]);
    expect(order.status).toBe(8);
    expect(standIn.runningVersions(appId)).toEqual({ [v1]: 1, [v2]: 4 });
    expect(await provider().promote(v2)).toEqual({ stable: v2 });
    expect(standIn.changeOrders(appId)[0]!.status).toBe(2);
  });

  it("treats a weight that needs every instance as the canary serving alone", async () => {
    const { provider, image } = await fresh({ replicas: 2 });
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    expect(await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } })).toEqual({ stable: v1, canary: { version: v2, weight: 50 } });
    expect(await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 60 } })).toEqual({ stable: v2 });
  });

  it("lowers a weight by aborting the change order and starting a smaller one", async () => {
    const { provider, image, standIn, appId } = await fresh({ replicas: 4 });
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } });
    expect(await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 25 } })).toEqual({ stable: v1, canary: { version: v2, weight: 25 } });
    expect(standIn.succeeded("AbortAndRollbackChangeOrder")).toHaveLength(1);
    expect(standIn.runningVersions(appId)).toEqual({ [v1]: 3, [v2]: 1 });
  });

  it("aborts and rolls back a running change order to restore the split before", async () => {
    const { provider, image, standIn, appId } = await fresh();
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    const before = await sae.traffic();
    await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 40 } });
    const canaryOrder = standIn.changeOrders(appId)[0]!;
    expect(await provider().rollback(before)).toEqual({ stable: v1 });
    expect(standIn.succeeded("AbortAndRollbackChangeOrder").map((call) => call.params["ChangeOrderId"])).toEqual([canaryOrder.changeOrderId]);
    expect(standIn.succeeded("RollbackApplication")).toEqual([]);
    expect(canaryOrder.status).toBe(6);
    expect(standIn.runningVersions(appId)).toEqual({ [v1]: 4 });
  });

  it("rolls back a finished change order with RollbackApplication to the version that served before", async () => {
    const { provider, image, standIn, appId } = await fresh();
    const sae = provider();
    const before = await sae.traffic();
    expect(before).toEqual({ stable: SEED_IMAGE });
    const v1 = (await sae.publish(image(1))).version;
    await sae.promote(v1);
    const seedVersion = standIn.app(appId).versions.at(-1)!;
    expect(await sae.rollback(before)).toEqual({ stable: SEED_IMAGE });
    expect(standIn.succeeded("RollbackApplication").map((call) => call.params["VersionId"])).toEqual([seedVersion.id]);
    expect(standIn.succeeded("AbortAndRollbackChangeOrder")).toEqual([]);
    expect(standIn.runningVersions(appId)).toEqual({ [SEED_IMAGE]: 4 });
  });

  it("restores a canary that was live before, route included", async () => {
    const { provider, image, standIn, appId } = await fresh({ provider: { greyTagRoutes: { kind: "spring-cloud", path: "/" } } });
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    const v3 = (await sae.publish(image(3))).version;
    await sae.promote(v1);
    const before = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 25 }, route: { header: { name: "x-canary", value: "yes" } } });
    expect(before.route).toEqual({ header: { name: "x-canary", value: "yes" } });
    const rules = standIn.greyTagRoutes(appId)[0]!.scRules;
    expect(rules).toEqual([{ condition: "OR", path: "/", items: [{ cond: "==", name: "x-canary", operator: "rawvalue", type: "header", value: "yes" }] }]);
    await sae.promote(v3);
    expect(standIn.greyTagRoutes(appId)).toEqual([]);
    expect(await sae.rollback(before)).toEqual(before);
    expect(await provider().traffic()).toEqual(before);
  });

  it("fails permanently with SAE's message when a batch fails, and rolls back a stuck order", async () => {
    const { provider, image, standIn } = await fresh();
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    const v2 = (await sae.publish(image(2))).version;
    await sae.promote(v1);
    standIn.failNextBatch({ message: "Failed to pull image acme/shop:build-2" });
    const failed = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 25 } }).catch((error: unknown) => error);
    expect(isGustError(failed) && !failed.retryable && /Failed to pull image/.test(failed.message)).toBe(true);
    expect(await sae.traffic()).toEqual({ stable: v1 });

    standIn.failNextBatch({ message: "Readiness probe failed", stuck: true });
    const stuck = await sae.setTraffic({ stable: v1, canary: { version: v2, weight: 25 } }).catch((error: unknown) => error);
    expect(isGustError(stuck) && !stuck.retryable && /Readiness probe failed/.test(stuck.message)).toBe(true);
    expect(await sae.rollback({ stable: v1 })).toEqual({ stable: v1 });
  });

  it("answers 'still in progress' retryably when a change order outlasts the call, and the next call carries on", async () => {
    const { provider, image } = await fresh({ stepsPerBatch: 50 });
    const sae = provider({ waitTimeoutMs: 0 });
    const v1 = (await sae.publish(image(1))).version;
    const error = await sae.promote(v1).catch((caught: unknown) => caught);
    expect(isGustError(error) && error.retryable && error.code === "sae_in_progress").toBe(true);
    const patient = provider();
    expect(await patient.promote(v1)).toEqual({ stable: v1 });
  });

  it("refuses a request whose signature does not verify, permanently", async () => {
    const { provider } = await fresh();
    const wrongSecret = provider({ credentials: { accessKeyId: "LTAIsaeGust", accessKeySecret: "not-the-secret" } });
    const error = await wrongSecret.traffic().catch((caught: unknown) => caught);
    expect(isGustError(error) && !error.retryable && error.fault === "user" && error.code === "SignatureDoesNotMatch").toBe(true);
    const unknownKey = provider({ credentials: { accessKeyId: "LTAIunknown", accessKeySecret: "x" } });
    const notFound = await unknownKey.traffic().catch((caught: unknown) => caught);
    expect(isGustError(notFound) && !notFound.retryable && notFound.code === "InvalidAccessKeyId.NotFound").toBe(true);
  });

  it("publishes package versions by their label and refuses an artifact the application cannot take", async () => {
    const { provider, standIn, appId } = await fresh({ app: { imageUrl: undefined, packageUrl: "https://oss.example.com/shop-0.jar", packageVersion: "0", packageType: "FatJar" } });
    const sae = provider();
    const jar = (n: number) => ({ packageUrl: `https://oss.example.com/shop-${n}.jar`, packageVersion: `${n}.0.0`, digest: `d${n}`, description: `#${n}` });
    expect(await sae.publish(jar(1))).toEqual({ version: "1.0.0", created: true });
    expect(await sae.publish(jar(1))).toEqual({ version: "1.0.0", created: false });
    const image = await sae.publish({ image: "registry/acme:1", digest: "x", description: "" }).catch((caught: unknown) => caught);
    expect(isGustError(image) && image.fault === "user" && !image.retryable).toBe(true);
    const reused = await sae.publish({ ...jar(1), digest: "other" }).catch((caught: unknown) => caught);
    expect(isGustError(reused) && reused.code === "sae_version_reused").toBe(true);
    expect(await sae.promote("1.0.0")).toEqual({ stable: "1.0.0" });
    expect(await sae.rollback({ stable: "0" })).toEqual({ stable: "0" });
    expect(standIn.succeeded("RollbackApplication")).toHaveLength(1);
    expect(standIn.runningVersions(appId)).toEqual({ "0": 4 });
  });

  it("keeps Gust's versions in a ConfigMap and leaves SAE's deployment history alone", async () => {
    const { provider, image, standIn, appId } = await fresh();
    const sae = provider();
    const v1 = (await sae.publish(image(1))).version;
    await sae.promote(v1);
    await sae.publish(image(2));
    await sae.deleteVersion(image(2).image!);
    expect((await sae.versions()).map((entry) => entry.version)).toEqual([v1]);
    expect(standIn.configMaps()).toHaveLength(1);
    expect(standIn.app(appId).versions.map((entry) => entry.deployed.imageUrl)).toEqual([v1, SEED_IMAGE]);
    const unknown = await sae.setTraffic({ stable: v1, canary: { version: "registry/never-published:1", weight: 10 } }).catch((caught: unknown) => caught);
    expect(isGustError(unknown) && unknown.fault === "user" && !unknown.retryable).toBe(true);
  });
});
