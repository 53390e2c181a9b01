// The FC provider through the real SDK against the loopback FC 3.0 stand-in (signatures verified,
// state kept): the shared DeployProvider contract, then what is particular to FC.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isGustError, ProviderError } from "../../src/errors";
import { alicloudConfig } from "../../src/release/alicloud-client";
import type { ReleaseArtifact } from "../../src/release/deploy-provider";
import { codePackage } from "../../src/release/fc/code-package";
import { writeZip } from "../../src/release/fc/zip-writer";
import { createFcProvider, fcEndpointFor, FcProvider, type FcProviderOptions } from "../../src/release/fc/fc-provider";
import type { FcTarget } from "../../src/release/fc/fc-settings";
import { SdkFcApi } from "../../src/release/fc/sdk-fc-api";
import { describeProviderContract } from "../contract/deploy-provider-contract";
import { startFcStandIn, type FcStandIn } from "../stand-ins/fc-stand-in";

const KEY = { accessKeyId: "LTAI5tGustFcTest", accessKeySecret: "fc-stand-in-secret" };

let standIn: FcStandIn;
let workDir: string;
let functions = 0;

beforeAll(async () => {
  standIn = await startFcStandIn({ credentials: { [KEY.accessKeyId]: KEY.accessKeySecret } });
  workDir = await mkdtemp(path.join(tmpdir(), "gust-fc-"));
});

afterAll(async () => {
  await standIn.close();
  await rm(workDir, { recursive: true, force: true });
});

function targetFor(overrides: Partial<FcTarget> = {}): FcTarget {
  functions += 1;
  return {
    type: "fc",
    region: "cn-hangzhou",
    function: `gust-api-${functions}`,
    alias: "live",
    runtime: "nodejs20",
    handler: "index.handler",
    memoryMb: 1024,
    cpu: 0.5,
    timeoutMs: 30_500,
    instanceConcurrency: 10,
    env: { GREETING: "hello" },
    ...overrides,
  };
}

function provider(target: FcTarget, options: Partial<FcProviderOptions> = {}): FcProvider {
  return new FcProvider({ target, endpoint: standIn.endpoint, protocol: "http", credentials: KEY, pollIntervalMs: 1, ...options });
}

/** A directory artifact: the same n gives the same files and digest. */
async function artifact(n: number, label = String(n)): Promise<ReleaseArtifact> {
  const dir = path.join(workDir, `artifact-${label}`);
  await mkdir(path.join(dir, "lib"), { recursive: true });
  await writeFile(path.join(dir, "index.js"), `exports.handler = async () => "release ${n}";\n`);
  await writeFile(path.join(dir, "lib", "version.txt"), `${n}\n`);
  return { path: dir, digest: createHash("sha256").update(`artifact ${n}`).digest("hex"), description: `gust acme/shop #${n}` };
}

/** A function deployed by other means (its own version 1 behind the alias), as Gust may find one. */
function deployedBefore(target: FcTarget): void {
  const { state } = standIn;
  const zipFile = writeZip([{ name: "index.js", data: Buffer.from("exports.handler = async () => 'manual';"), mode: 0o644 }]).toString("base64");
  state.createFunction({ functionName: target.function, runtime: "nodejs18", handler: "index.handler", code: { zipFile } });
  while (state.getFunction(target.function)["lastUpdateStatus"] === "InProgress");
  const { versionId } = state.publishVersion(target.function, { description: "deployed by hand" });
  state.createAlias(target.function, { aliasName: target.alias, versionId });
}

let contractTargets = 0;
describeProviderContract("fc", {
  async target() {
    const target = targetFor();
    // Every other target already serves a version deployed without Gust.
    if (++contractTargets % 2 === 0) deployedBefore(target);
    const first = provider(target);
    return {
      provider: first,
      artifact: (n) => artifact(n),
      throttleNext: () => standIn.throttleNext(),
      reopen: async () => provider(target),
      teardown: async () => {},
    };
  },
});

describe("FC provider", () => {
  const open: FcProvider[] = [];
  const make = (target: FcTarget, options: Partial<FcProviderOptions> = {}) => {
    const made = provider(target, options);
    open.push(made);
    return made;
  };
  afterEach(async () => {
    for (const each of open.splice(0)) await each.close();
  });
  const since = (count: number) => standIn.requests.slice(count);

  it("names its target and claims no routes or metrics", () => {
    const fc = make(targetFor({ function: "api", alias: "prod", region: "cn-shanghai" }));
    expect(fc.target).toBe("fc cn-shanghai/api@prod");
    expect(fc.capabilities).toEqual({ routes: [], metrics: false });
  });

  it("creates the function when it is missing, with the target's settings and the zipped directory", async () => {
    const target = targetFor();
    const fc = make(target);
    const before = standIn.requests.length;
    const release = await artifact(1);
    expect(await fc.publish(release)).toEqual({ version: "1", created: true });
    const record = standIn.state.functions.get(target.function)!;
    expect(record.settings).toMatchObject({ runtime: "nodejs20", handler: "index.handler", memorySize: 1024, cpu: 0.5, timeout: 31, instanceConcurrency: 10, environmentVariables: { GREETING: "hello" } });
    expect(record.settings.zip!.equals(await codePackage(release.path!))).toBe(true);
    expect(record.versions.get("1")!.description).toBe(`gust acme/shop #1 [gust:${release.digest.slice(0, 16)}]`);
    expect(since(before).map((request) => `${request.action} ${request.status}`)).toEqual([
      "ListFunctionVersions 404",
      "GetFunction 404",
      "CreateFunction 200",
      "GetFunction 200",
      "GetFunction 200",
      "GetFunction 200",
      "PublishFunctionVersion 200",
    ]);
  });

  it("updates an existing function and publishes only once its update is applied", async () => {
    const target = targetFor();
    const fc = make(target);
    await fc.publish(await artifact(1));
    const before = standIn.requests.length;
    expect(await fc.publish(await artifact(2))).toEqual({ version: "2", created: true });
    const calls = since(before).map((request) => request.action);
    expect(calls.slice(0, 4)).toEqual(["ListFunctionVersions", "GetFunction", "GetFunction", "UpdateFunction"]);
    // Two reads still see InProgress (the stand-in's updateReads), the third Successful; the publish
    // is accepted (the stand-in refuses one during an update).
    expect(calls.slice(4)).toEqual(["GetFunction", "GetFunction", "GetFunction", "PublishFunctionVersion"]);
    expect(since(before).every((request) => request.status === 200 || request.status === 204)).toBe(true);
  });

  it("reports an update FC could not apply as the release's fault, with FC's reason", async () => {
    const target = targetFor();
    const fc = make(target);
    await fc.publish(await artifact(1));
    standIn.state.failNextUpdate(target.function, "the handler file index.js is missing");
    const error = await fc.publish(await artifact(2)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false, fault: "user", code: "update_failed" });
    expect((error as Error).message).toContain("the handler file index.js is missing");
    expect([...standIn.state.functions.get(target.function)!.versions.keys()]).toEqual(["1"]);
  });

  it("gives up retryably on an update still in progress after updateTimeoutMs, and a later attempt completes it", async () => {
    const target = targetFor();
    const impatient = make(target, { updateTimeoutMs: 0 });
    const error = await impatient.publish(await artifact(1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: true, code: "update_in_progress" });
    expect(await make(target).publish(await artifact(1))).toEqual({ version: "1", created: true });
  });

  it("returns the latest version when FC says nothing changed since the last publish", async () => {
    const target = targetFor();
    const fc = make(target);
    const first = await fc.publish(await artifact(1));
    // Same files under another digest (a rebuild): FC refuses to publish an identical version.
    const rebuilt = { ...(await artifact(1, "1-rebuilt")), digest: "f".repeat(64) };
    const before = standIn.requests.length;
    expect(await fc.publish(rebuilt)).toEqual({ version: first.version, created: false });
    expect(since(before).find((request) => request.action === "PublishFunctionVersion")).toMatchObject({ status: 400 });
    expect(standIn.state.functions.get(target.function)!.versions.size).toBe(1);
  });

  it("publishes a container image as a custom-container function", async () => {
    const target = targetFor({ runtime: undefined, handler: undefined });
    const fc = make(target);
    const image = "registry.cn-hangzhou.aliyuncs.com/acme/api:abc1234";
    expect(await fc.publish({ image, digest: createHash("sha256").update(image).digest("hex"), description: "image release" })).toEqual({ version: "1", created: true });
    expect(standIn.state.functions.get(target.function)!.settings).toMatchObject({ runtime: "custom-container", handler: "index.handler", image });
  });

  it("refuses code without a runtime, naming the field, before calling FC to create anything", async () => {
    const fc = make(targetFor({ runtime: undefined }));
    const before = standIn.requests.length;
    const error = await fc.publish(await artifact(1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: false, fault: "user", code: "runtime_missing" });
    expect((error as Error).message).toContain("release.target.runtime");
    expect(since(before).map((request) => request.action)).toEqual(["ListFunctionVersions"]);
  });

  it("refuses a package over the inline limit and says OSS upload is not built when a bucket is set", async () => {
    const fc = make(targetFor({ ossBucket: "acme-code" }), { maxInlineCodeBytes: 64 });
    const error = await fc.publish(await artifact(1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: false, fault: "user", code: "code_too_large" });
    expect((error as Error).message).toMatch(/OSS bucket acme-code .* not built/);
  });

  it("settings FC refuses are permanent and the user's: memory below FC's minimum", async () => {
    const fc = make(targetFor({ memoryMb: 64, cpu: undefined }));
    const error = await fc.publish(await artifact(1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ retryable: false, fault: "user", code: "InvalidArgument", status: 400 });
    expect((error as Error).message).toContain("memorySize");
  });

  it("refuses a wrong AccessKey secret or an unknown AccessKey permanently (the stand-in checks the signature)", async () => {
    const target = targetFor();
    const wrongSecret = make(target, { credentials: { ...KEY, accessKeySecret: "not-the-secret" } });
    await expect(wrongSecret.traffic()).rejects.toMatchObject({ retryable: false, fault: "user", code: "SignatureDoesNotMatch" });
    const unknown = make(target, { credentials: { accessKeyId: "LTAIunknown", accessKeySecret: "x" } });
    await expect(unknown.traffic()).rejects.toMatchObject({ retryable: false, fault: "user", code: "InvalidAccessKeyId.NotFound", status: 404 });
  });

  it("creates the alias on the first promotion, then updates it with exact fractions", async () => {
    const target = targetFor();
    const fc = make(target);
    const v1 = (await fc.publish(await artifact(1))).version;
    const v2 = (await fc.publish(await artifact(2))).version;
    expect(await fc.traffic()).toEqual({ stable: null });
    let before = standIn.requests.length;
    expect(await fc.promote(v1)).toEqual({ stable: v1 });
    expect(since(before).map((request) => `${request.action} ${request.status}`)).toEqual(["UpdateAlias 404", "CreateAlias 200"]);
    before = standIn.requests.length;
    expect(await fc.setTraffic({ stable: v1, canary: { version: v2, weight: 7 } })).toEqual({ stable: v1, canary: { version: v2, weight: 7 } });
    expect(since(before)).toMatchObject([{ action: "UpdateAlias", status: 200, body: { versionId: v1, additionalVersionWeight: { [v2]: 0.07 } } }]);
    expect(standIn.state.functions.get(target.function)!.aliases.get("live")!.additionalVersionWeight).toEqual({ [v2]: 0.07 });
    expect(await fc.setTraffic({ stable: v1, canary: { version: v2, weight: 33.3 } })).toEqual({ stable: v1, canary: { version: v2, weight: 33.3 } });
    // Back to one version: the map is sent empty (left out, FC would keep the canary's weight).
    before = standIn.requests.length;
    expect(await fc.promote(v2)).toEqual({ stable: v2 });
    expect(since(before).map((request) => [request.action, request.body])).toEqual([["UpdateAlias", { versionId: v2, additionalVersionWeight: {} }]]);
  });

  it("updates the alias when another writer created it between Gust's update and create", async () => {
    const target = targetFor();
    const fc = make(target);
    const v1 = (await fc.publish(await artifact(1))).version;
    const v2 = (await fc.publish(await artifact(2))).version;
    await fc.promote(v1);
    // Gust's update sees the alias missing (it was created just after), its create then collides.
    standIn.failNext({ status: 404, code: "AliasNotFound", message: `alias 'live' of function '${target.function}' does not exist` });
    const before = standIn.requests.length;
    expect(await fc.promote(v2)).toEqual({ stable: v2 });
    expect(since(before).map((request) => `${request.action} ${request.status}`)).toEqual(["UpdateAlias 404", "CreateAlias 409", "UpdateAlias 200"]);
  });

  it("rolls back to no alias at all when none existed before the release", async () => {
    const target = targetFor();
    const fc = make(target);
    const before = await fc.traffic();
    expect(before).toEqual({ stable: null });
    await fc.promote((await fc.publish(await artifact(1))).version);
    expect(await fc.rollback(before)).toEqual({ stable: null });
    expect(standIn.state.functions.get(target.function)!.aliases.has("live")).toBe(false);
    expect(await fc.rollback(before)).toEqual({ stable: null });
  });

  it("keeps a version another alias serves: FC refuses the deletion and nothing is deleted", async () => {
    const target = targetFor();
    const fc = make(target);
    const v1 = (await fc.publish(await artifact(1))).version;
    const v2 = (await fc.publish(await artifact(2))).version;
    await fc.promote(v2);
    standIn.state.createAlias(target.function, { aliasName: "staging", versionId: v2, additionalVersionWeight: {} });
    standIn.state.updateAlias(target.function, "staging", { versionId: v2, additionalVersionWeight: { [v1]: 0.5 } });
    const error = await fc.deleteVersion(v1).catch((caught: unknown) => caught);
    expect(isGustError(error) && !error.retryable).toBe(true);
    expect(error).toMatchObject({ status: 400 });
    expect((error as Error).message).toContain("referenced by alias 'staging'");
    expect(standIn.state.functions.get(target.function)!.versions.has(v1)).toBe(true);
    // Through the API port directly, FC's own refusal covers Gust's alias as well.
    const api = new SdkFcApi(alicloudConfig({ region: "cn-hangzhou", endpoint: standIn.endpoint, protocol: "http", credentials: KEY }));
    await expect(api.deleteVersion(target.function, v2)).rejects.toMatchObject({ retryable: false });
    expect(standIn.state.functions.get(target.function)!.versions.has(v2)).toBe(true);
  });

  it("lists every version across pages, newest first, with descriptions and times", async () => {
    const target = targetFor();
    const fc = make(target);
    await fc.publish(await artifact(1));
    // 130 more versions published by other means: more than one page of 100.
    for (let n = 0; n < 130; n += 1) {
      standIn.state.updateFunction(target.function, { environmentVariables: { N: String(n) } });
      while (standIn.state.getFunction(target.function)["lastUpdateStatus"] === "InProgress");
      standIn.state.publishVersion(target.function, { description: `manual ${n}` });
    }
    const listed = await fc.versions();
    expect(listed).toHaveLength(131);
    expect(listed.map((entry) => entry.version).slice(0, 3)).toEqual(["131", "130", "129"]);
    expect(listed.at(-1)).toMatchObject({ version: "1", description: expect.stringContaining("[gust:") });
    expect(listed[0]!.createdAt).toBeInstanceOf(Date);
    expect(standIn.actions("ListFunctionVersions").at(-1)!.query).toMatchObject({ limit: "100", direction: "BACKWARD", nextToken: expect.any(String) });
  });

  it("reports throttling and server errors as retryable, with the wait the gateway asked for", async () => {
    const fc = make(targetFor());
    standIn.throttleNext({ retryAfterMs: 1500 });
    await expect(fc.traffic()).rejects.toMatchObject({ retryable: true, code: "Throttling.User", status: 429, retryAfterMs: 1500 });
    standIn.throttleNext({ status: 429, code: "ResourceThrottled", message: "Reduce the number of concurrent requests" });
    await expect(fc.traffic()).rejects.toMatchObject({ retryable: true, status: 429 });
    standIn.failNext({ status: 503, code: "ServiceUnavailable", message: "The request has failed due to a temporary failure of the server." });
    await expect(fc.traffic()).rejects.toMatchObject({ retryable: true, status: 503 });
    expect(await fc.traffic()).toEqual({ stable: null });
  });

  it("reports an unreachable endpoint as a retryable network error", async () => {
    const fc = make(targetFor(), { endpoint: "127.0.0.1:1" });
    await expect(fc.traffic()).rejects.toMatchObject({ retryable: true, code: "network_error" });
  });

  it("puts the target's region into the endpoint", () => {
    expect(fcEndpointFor("cn-hangzhou")).toBe("fcv3.cn-hangzhou.aliyuncs.com");
    expect(fcEndpointFor("ap-southeast-1", "fc.{region}.internal.example:8443")).toBe("fc.ap-southeast-1.internal.example:8443");
  });

  it("is made from Gust's settings: endpoint, protocol, both halves of the AccessKey", async () => {
    const target = targetFor();
    const fc = createFcProvider(target, {
      alicloudAccessKeyId: KEY.accessKeyId,
      alicloudAccessKeySecret: KEY.accessKeySecret,
      fcEndpoint: standIn.endpoint,
      alicloudProtocol: "http",
    });
    open.push(fc);
    expect(await fc.traffic()).toEqual({ stable: null });
    expect(() => createFcProvider(target, { alicloudAccessKeyId: KEY.accessKeyId })).toThrow(/alicloud-access-key-secret/);
  });
});
