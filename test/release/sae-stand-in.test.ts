// The SAE stand-in refuses what SAE refuses (so the provider's tests mean something), and the
// provider's client maps those answers onto ProviderErrors the way the controller needs them.
import OpenApiModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import { afterEach, describe, expect, it } from "vitest";
import { isGustError, type GustError } from "../../src/errors";
import { alicloudConfig, cjsDefault } from "../../src/release/alicloud-client";
import { SaeClient, type SaeAction } from "../../src/release/sae/sae-client";
import { saeFixture, SAE_KEYS, type SaeFixture } from "../stand-ins/sae-stand-in-harness";

const fixtures: SaeFixture[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});

async function setup(replicas = 4) {
  const fixture = await saeFixture({ replicas });
  fixtures.push(fixture);
  const client = new SaeClient({ region: "cn-hangzhou", endpoint: fixture.standIn.endpoint, protocol: "http", credentials: { accessKeyId: "LTAIsaeGust", accessKeySecret: SAE_KEYS.LTAIsaeGust } });
  const fail = (action: SaeAction, query: Record<string, string | number | boolean | undefined>) =>
    client.call(action, query).then(
      () => undefined,
      (error: unknown) => error as GustError & { status?: number },
    );
  return { ...fixture, client, fail };
}

const gray = (gray: number, batch: number) => JSON.stringify({ type: "GrayBatchUpdate", grayUpdate: { gray }, batchUpdate: { batch, releaseType: "manual" } });

describe("sae stand-in", () => {
  it("refuses a batch release of one instance and a gray batch above half of the instances", async () => {
    const one = await setup(1);
    expect(await one.fail("DeployApplication", { AppId: one.appId, ImageUrl: "r/a:2", UpdateStrategy: gray(1, 1) })).toMatchObject({ code: "InvalidParameter.WithMessage", retryable: false, fault: "user" });
    const four = await setup(4);
    expect(await four.fail("DeployApplication", { AppId: four.appId, ImageUrl: "r/a:2", UpdateStrategy: gray(3, 1) })).toMatchObject({ code: "InvalidParameter.WithMessage" });
    expect(await four.fail("DeployApplication", { AppId: four.appId, ImageUrl: "r/a:2", UpdateStrategy: "{not json" })).toMatchObject({ code: "InvalidParameter.Obviously" });
    expect(await four.fail("DeployApplication", { AppId: four.appId, ImageUrl: "r/a:2", MinReadyInstances: 4 })).toMatchObject({ code: "MinReadyInstances.Not.Smaller.Replicas" });
    expect(four.standIn.changeOrders(four.appId)).toEqual([]);
  });

  it("refuses a second change while one runs, retryably", async () => {
    const { appId, client, fail } = await setup();
    await client.call("DeployApplication", { AppId: appId, ImageUrl: "r/a:2", UpdateStrategy: gray(1, 3) });
    const error = await fail("DeployApplication", { AppId: appId, ImageUrl: "r/a:3" });
    expect(error).toMatchObject({ code: "Application.ChangerOrderRunning", status: 400, retryable: true });
  });

  it("checks required parameters, unknown ones and their types", async () => {
    const { appId, fail } = await setup();
    expect(await fail("DescribeApplicationInstances", { AppId: appId })).toMatchObject({ code: "InvalidParameter.NotEmpty", retryable: false });
    expect(await fail("DescribeApplicationConfig", { AppId: appId, Appid: "typo" })).toMatchObject({ code: "InvalidParameter.Obviously" });
    expect(await fail("DescribeApplicationConfig", { AppId: "no-such-app" })).toMatchObject({ code: "InvalidApplication.NotFound", fault: "user" });
    expect(await fail("ConfirmPipelineBatch", { PipelineId: "p", Confirm: "yes" })).toMatchObject({ code: "InvalidParameter.Obviously" });
  });

  it("refuses an action sent to another path or with another method", async () => {
    const { appId, standIn } = await setup();
    const OpenApi = cjsDefault(OpenApiModule);
    const client = new OpenApi(alicloudConfig({ region: "cn-hangzhou", endpoint: standIn.endpoint, protocol: "http", credentials: { accessKeyId: "LTAIsaeGust", accessKeySecret: SAE_KEYS.LTAIsaeGust } }));
    const send = (method: string, pathname: string) =>
      client
        .callApi(
          new $OpenApiUtil.Params({ action: "DescribeApplicationConfig", version: "2019-05-06", protocol: "HTTP", pathname, method, authType: "AK", style: "ROA", reqBodyType: "json", bodyType: "json" }),
          new $OpenApiUtil.OpenApiRequest({ headers: {}, query: { AppId: appId } }),
          {} as Parameters<InstanceType<typeof OpenApi>["callApi"]>[2],
        )
        .then(
          () => undefined,
          (error: unknown) => error as { code: string; statusCode: number },
        );
    expect(await send("GET", "/pop/v1/sam/app/describeApplication")).toMatchObject({ code: "InvalidAction.NotFound", statusCode: 404 });
    expect(await send("POST", "/pop/v1/sam/app/describeApplicationConfig")).toMatchObject({ code: "InvalidAction.NotFound", statusCode: 404 });
    expect(await send("GET", "/pop/v1/sam/app/describeApplicationConfig")).toBeUndefined();
  });

  it("throttles like SAE's gateway (Throttling.User) and reports an overloaded service, both retryable", async () => {
    const { appId, fail, standIn } = await setup();
    standIn.throttleNext();
    const error = await fail("DescribeApplicationConfig", { AppId: appId });
    expect(isGustError(error) && error.retryable && error.code === "Throttling.User").toBe(true);
    expect(await fail("DescribeApplicationConfig", { AppId: appId })).toBeUndefined();
    standIn.throttleNext({ status: 503, code: "ServiceUnavailable" });
    expect(await fail("DescribeApplicationConfig", { AppId: appId })).toMatchObject({ code: "ServiceUnavailable", status: 503, retryable: true });
  });

  it("moves a manual batch only when it is confirmed", async () => {
    const { appId, client, standIn } = await setup();
    const { ChangeOrderId } = await client.call<{ ChangeOrderId: string }>("DeployApplication", { AppId: appId, ImageUrl: "r/a:2", UpdateStrategy: gray(1, 3) });
    let order = await client.call<{ Status: number; Pipelines: Array<{ PipelineId: string; Status: number }> }>("DescribeChangeOrder", { ChangeOrderId });
    for (let look = 0; look < 10 && order.Status !== 8; look += 1) order = await client.call("DescribeChangeOrder", { ChangeOrderId });
    expect(order.Pipelines.map((pipeline) => pipeline.Status)).toEqual([2, 8, 0, 0]);
    for (let look = 0; look < 5; look += 1) await client.call("DescribeChangeOrder", { ChangeOrderId });
    expect(standIn.runningVersions(appId)["r/a:2"]).toBe(1);
    await client.call("ConfirmPipelineBatch", { PipelineId: order.Pipelines[1]!.PipelineId, Confirm: true });
    for (let look = 0; look < 5; look += 1) order = await client.call("DescribeChangeOrder", { ChangeOrderId });
    expect(order.Pipelines.map((pipeline) => pipeline.Status)).toEqual([2, 2, 8, 0]);
    expect(standIn.runningVersions(appId)["r/a:2"]).toBe(2);
  });
});
