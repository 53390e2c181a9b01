// How the SDK's failures (and the network's) become ProviderErrors, and the AccessKey settings.
import { ClientError, ServerError, ThrottlingError } from "@alicloud/openapi-core";
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/errors";
import { alicloudConfig, alicloudCredentialsFrom, providerErrorFrom } from "../../src/release/alicloud-client";

const answer = (code: string, statusCode: number, message = "what the service said") => ({
  code,
  statusCode,
  message: `code: ${statusCode}, ${message} request id: REQ-1`,
  requestId: "REQ-1",
  data: { Code: code, Message: message, RequestId: "REQ-1" },
});

describe("providerErrorFrom", () => {
  it("makes throttling, 429 and 5xx retryable, with the wait the service asked for", () => {
    expect(providerErrorFrom(new ThrottlingError({ ...answer("Throttling.User", 429), retryAfter: 2000 }), "GetAlias")).toMatchObject({ retryable: true, retryAfterMs: 2000, status: 429, code: "Throttling.User" });
    expect(providerErrorFrom(new ClientError(answer("ResourceThrottled", 429)), "GetAlias")).toMatchObject({ retryable: true, status: 429 });
    expect(providerErrorFrom(new ServerError(answer("InternalError", 500)), "GetAlias")).toMatchObject({ retryable: true, status: 500, fault: "infrastructure" });
    expect(providerErrorFrom(new ServerError(answer("ServiceUnavailable", 503)), "GetAlias")).toMatchObject({ retryable: true });
  });

  it("makes 4xx permanent: the user's fault for wrong settings or credentials, else the service's refusal", () => {
    for (const [code, status] of [["FunctionNotFound", 404], ["InvalidArgument", 400], ["AccessDenied", 403], ["SignatureDoesNotMatch", 400], ["InvalidAccessKeyId.NotFound", 404]] as const) {
      expect(providerErrorFrom(new ClientError(answer(code, status)), "UpdateFunction"), code).toMatchObject({ retryable: false, fault: "user", status, code });
    }
    expect(providerErrorFrom(new ClientError(answer("ConcurrentUpdateError", 409)), "UpdateFunction")).toMatchObject({ retryable: true });
    expect(providerErrorFrom(new ClientError(answer("AliasAlreadyExists", 409)), "CreateAlias")).toMatchObject({ retryable: false, fault: "infrastructure" });
  });

  it("says which call failed, what the service said, and the request id", () => {
    const error = providerErrorFrom(new ClientError(answer("FunctionNotFound", 404, "function 'api' does not exist")), "GetFunction api");
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.message).toBe("GetFunction api failed: FunctionNotFound (HTTP 404): function 'api' does not exist (request REQ-1)");
  });

  it("makes network failures retryable and missing credentials the user's fault", () => {
    expect(providerErrorFrom(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), "GetAlias")).toMatchObject({ retryable: true, code: "network_error" });
    expect(providerErrorFrom(new Error("socket hang up"), "GetAlias")).toMatchObject({ retryable: true });
    expect(providerErrorFrom(new Error("unable to get credentials from any of the providers in the chain: ..."), "GetAlias")).toMatchObject({ retryable: false, fault: "user", code: "credentials_unavailable" });
  });

  it("passes a ProviderError through unchanged", () => {
    const original = new ProviderError("already mapped", { retryable: false, code: "x" });
    expect(providerErrorFrom(original, "GetAlias")).toBe(original);
  });
});

describe("AccessKey settings", () => {
  it("take both halves, or neither for the default chain, and name the missing half", () => {
    expect(alicloudCredentialsFrom({ alicloudAccessKeyId: "id", alicloudAccessKeySecret: "secret" })).toEqual({ accessKeyId: "id", accessKeySecret: "secret" });
    expect(alicloudCredentialsFrom({})).toBeUndefined();
    expect(() => alicloudCredentialsFrom({ alicloudAccessKeySecret: "secret" })).toThrow(/alicloud-access-key-id \(GUST_ALICLOUD_ACCESS_KEY_ID\) is not set/);
  });

  it("configure explicit keys, or the default credential chain without them", () => {
    const explicit = alicloudConfig({ region: "cn-hangzhou", endpoint: "fcv3.cn-hangzhou.aliyuncs.com", credentials: { accessKeyId: "id", accessKeySecret: "secret" } });
    expect(explicit).toMatchObject({ regionId: "cn-hangzhou", endpoint: "fcv3.cn-hangzhou.aliyuncs.com", protocol: "https", accessKeyId: "id", accessKeySecret: "secret" });
    expect(explicit.credential).toBeUndefined();
    const chain = alicloudConfig({ region: "cn-hangzhou", endpoint: "127.0.0.1:9", protocol: "http" });
    expect(chain.accessKeyId).toBeUndefined();
    expect(chain.credential).toBeDefined();
  });
});
