// The V3 signature verifier against requests signed by the real SDK (@alicloud/openapi-core), caught
// on a loopback socket exactly as they were sent; then each part of a request tampered with.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenApiModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alicloudConfig, cjsDefault } from "../../src/release/alicloud-client";
import { splitRequestTarget, verifyAcs3Request, type Acs3Request } from "./acs3-signature";

const OpenApi = cjsDefault(OpenApiModule);
const KEYS = { LTAIgust: "s3cret-value", LTAIother: "another" };

let server: Server;
let endpoint: string;
const caught: Acs3Request[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      caught.push({ method: req.method ?? "GET", ...splitRequestTarget(req.url ?? "/"), headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends one call through the SDK and returns the request as the server saw it. */
async function signed(options: { method: string; pathname: string; query?: Record<string, string>; body?: unknown; accessKeyId?: string; securityToken?: string }): Promise<Acs3Request> {
  const accessKeyId = options.accessKeyId ?? "LTAIgust";
  const client = new OpenApi(
    alicloudConfig({
      region: "cn-hangzhou",
      endpoint,
      protocol: "http",
      credentials: { accessKeyId, accessKeySecret: KEYS[accessKeyId as keyof typeof KEYS] ?? "unknown", ...(options.securityToken ? { securityToken: options.securityToken } : {}) },
    }),
  );
  const before = caught.length;
  await client.callApi(
    new $OpenApiUtil.Params({ action: "TestAction", version: "2023-03-30", protocol: "HTTP", pathname: options.pathname, method: options.method, authType: "AK", style: "ROA", reqBodyType: "json", bodyType: "json" }),
    new $OpenApiUtil.OpenApiRequest({ headers: {}, ...(options.query ? { query: options.query } : {}), ...(options.body === undefined ? {} : { body: options.body }) }),
    // Runtime options are read field by field; none are needed here.
    {} as Parameters<InstanceType<typeof OpenApi>["callApi"]>[2],
  );
  expect(caught.length).toBe(before + 1);
  return caught[before]!;
}

describe("verifyAcs3Request", () => {
  it("accepts a ROA call with a JSON body signed by openapi-core", async () => {
    const request = await signed({ method: "POST", pathname: "/2023-03-30/functions", body: { functionName: "api", runtime: "nodejs20", note: "héllo (1) * 'x' !" } });
    expect(request.headers.authorization).toMatch(/^ACS3-HMAC-SHA256 Credential=LTAIgust,SignedHeaders=content-type;host;x-acs-action;/);
    expect(verifyAcs3Request(request, KEYS)).toEqual({ ok: true, accessKeyId: "LTAIgust" });
  });

  it("accepts an encoded path segment and a query with characters RFC 3986 reserves", async () => {
    const name = encodeURIComponent("my fn~x*y(z)").replace("*", "%2A");
    const request = await signed({ method: "GET", pathname: `/2023-03-30/functions/${name}/versions`, query: { qualifier: "a b+c/d!'()*~é", limit: "100", nextToken: "" } });
    expect(verifyAcs3Request(request, KEYS)).toEqual({ ok: true, accessKeyId: "LTAIgust" });
  });

  it("accepts STS credentials (x-acs-security-token signed too)", async () => {
    const request = await signed({ method: "DELETE", pathname: "/2023-03-30/functions/api/aliases/live", securityToken: "sts-token-value" });
    expect(request.headers["x-acs-security-token"]).toBe("sts-token-value");
    expect(verifyAcs3Request(request, KEYS)).toMatchObject({ ok: true });
  });

  describe("refuses a tampered request", () => {
    let good: Acs3Request;
    beforeAll(async () => {
      good = await signed({ method: "PUT", pathname: "/2023-03-30/functions/api/aliases/live", query: { a: "1" }, body: { versionId: "3" } });
      expect(verifyAcs3Request(good, KEYS).ok).toBe(true);
    });
    const mismatch = { ok: false, status: 400, code: "SignatureDoesNotMatch" };

    it("with another body (hash header left as signed)", () => {
      expect(verifyAcs3Request({ ...good, body: Buffer.from('{"versionId":"4"}') }, KEYS)).toMatchObject(mismatch);
    });
    it("with another body and a recomputed x-acs-content-sha256", async () => {
      const { createHash } = await import("node:crypto");
      const body = Buffer.from('{"versionId":"4"}');
      const headers = { ...good.headers, "x-acs-content-sha256": createHash("sha256").update(body).digest("hex") };
      expect(verifyAcs3Request({ ...good, body, headers }, KEYS)).toMatchObject(mismatch);
    });
    it("with another query", () => {
      expect(verifyAcs3Request({ ...good, query: { a: "2" } }, KEYS)).toMatchObject(mismatch);
      expect(verifyAcs3Request({ ...good, query: { a: "1", b: "" } }, KEYS)).toMatchObject(mismatch);
    });
    it("with another path or method", () => {
      expect(verifyAcs3Request({ ...good, path: "/2023-03-30/functions/api/aliases/prod" }, KEYS)).toMatchObject(mismatch);
      expect(verifyAcs3Request({ ...good, method: "POST" }, KEYS)).toMatchObject(mismatch);
    });
    it("with a changed signed header", () => {
      expect(verifyAcs3Request({ ...good, headers: { ...good.headers, "x-acs-action": "DeleteAlias" } }, KEYS)).toMatchObject(mismatch);
      expect(verifyAcs3Request({ ...good, headers: { ...good.headers, host: "fcv3.cn-hangzhou.aliyuncs.com" } }, KEYS)).toMatchObject(mismatch);
    });
    it("with an x-acs-* header added after signing", () => {
      expect(verifyAcs3Request({ ...good, headers: { ...good.headers, "x-acs-extra": "1" } }, KEYS)).toMatchObject({ ok: false, code: "IncompleteSignature" });
    });
    it("checked against another secret for the same key", () => {
      expect(verifyAcs3Request(good, { LTAIgust: "wrong-secret" })).toMatchObject(mismatch);
    });
    it("from an unknown AccessKey", () => {
      expect(verifyAcs3Request(good, { LTAIother: "another" })).toEqual({ ok: false, status: 404, code: "InvalidAccessKeyId.NotFound", message: "Specified access key is not found." });
    });
    it("without a signature, or with a malformed one", () => {
      const { authorization: _drop, ...headers } = good.headers;
      expect(verifyAcs3Request({ ...good, headers }, KEYS)).toMatchObject({ ok: false, code: "MissingAuthorization" });
      expect(verifyAcs3Request({ ...good, headers: { ...good.headers, authorization: "ACS3-HMAC-SHA256 Credential=LTAIgust" } }, KEYS)).toMatchObject({ ok: false, code: "IncompleteSignature" });
    });
    it("dated more than 15 minutes away, or without a nonce", () => {
      const date = Date.parse(good.headers["x-acs-date"] as string);
      expect(verifyAcs3Request(good, KEYS, { now: date + 14 * 60_000 }).ok).toBe(true);
      expect(verifyAcs3Request(good, KEYS, { now: date + 16 * 60_000 })).toMatchObject({ ok: false, code: "InvalidTimeStamp.Expired" });
      expect(verifyAcs3Request(good, KEYS, { now: date - 16 * 60_000 })).toMatchObject({ ok: false, code: "InvalidTimeStamp.Expired" });
      const { "x-acs-signature-nonce": _nonce, ...headers } = good.headers;
      expect(verifyAcs3Request({ ...good, headers }, KEYS)).toMatchObject({ ok: false, code: "MissingParameter" });
    });
    it("replayed with a nonce already seen", () => {
      const seen = new Set<string>();
      expect(verifyAcs3Request(good, KEYS, { seenNonces: seen }).ok).toBe(true);
      expect(verifyAcs3Request(good, KEYS, { seenNonces: seen })).toMatchObject({ ok: false, code: "SignatureNonceUsed" });
    });
  });
});
