// A loopback Function Compute 3.0 API (2023-03-30) for the calls the FC deploy provider makes:
// functions, versions and aliases (state in ./fc-stand-in-state.ts, body checks in
// ./fc-stand-in-validation.ts). Every request must carry a valid ACS3-HMAC-SHA256 signature for a
// known AccessKey, the action and version headers the path calls for; errors are answered the way
// the OpenAPI gateway and FC do: HTTP status + {Code, Message, RequestId}. Throttling and other
// failures can be injected for the next calls.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { splitRequestTarget, verifyAcs3Request } from "./acs3-signature";
import { FcState } from "./fc-stand-in-state";
import { bodyOf, FcFault, type Body } from "./fc-stand-in-validation";

export { FcFault } from "./fc-stand-in-validation";
export type { AliasRecord, FunctionRecord, VersionRecord } from "./fc-stand-in-state";

const API_VERSION = "2023-03-30";

export interface FcRecordedRequest {
  action: string;
  method: string;
  /** Path as sent, percent-encoded. */
  path: string;
  query: Record<string, string | string[]>;
  /** Parsed JSON body, when there was one. */
  body?: unknown;
  accessKeyId?: string;
  /** The status the stand-in answered. */
  status: number;
}

export interface InjectedFault {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: RegExp;
  action: string;
  handle(params: string[], body: Buffer, request: IncomingMessage, query: Record<string, string | string[]>): { status: number; body?: Body };
}

export interface FcStandInOptions {
  /** AccessKey id → secret. */
  credentials: Record<string, string>;
  region?: string;
  accountId?: string;
  /** GetFunction reads that still see lastUpdateStatus InProgress after a create or update (default 2). */
  updateReads?: number;
  maxAdditionalVersions?: number;
}

export interface FcStandIn {
  /** host:port, what the SDK's `endpoint` takes. */
  endpoint: string;
  /** http://host:port */
  url: string;
  state: FcState;
  requests: FcRecordedRequest[];
  /** The next `count` signed requests are throttled as the gateway throttles (429 Throttling.User by default). */
  throttleNext(options?: Partial<InjectedFault> & { count?: number; retryAfterMs?: number }): void;
  /** The next `count` signed requests get this answer instead of theirs. */
  failNext(fault: InjectedFault, count?: number): void;
  /** Recorded requests of one action. */
  actions(action: string): FcRecordedRequest[];
  close(): Promise<void>;
}

function routes(state: FcState): Route[] {
  const name = "([^/]+)";
  const base = `^/${API_VERSION}/functions`;
  return [
    { method: "POST", pattern: new RegExp(`${base}$`), action: "CreateFunction", handle: (_, body, req) => ({ status: 200, body: state.createFunction(bodyOf("CreateFunction", body, req.headers["content-type"])) }) },
    { method: "GET", pattern: new RegExp(`${base}/${name}$`), action: "GetFunction", handle: ([fn]) => ({ status: 200, body: state.getFunction(fn!) }) },
    { method: "PUT", pattern: new RegExp(`${base}/${name}$`), action: "UpdateFunction", handle: ([fn], body, req) => ({ status: 200, body: state.updateFunction(fn!, bodyOf("UpdateFunction", body, req.headers["content-type"])) }) },
    { method: "DELETE", pattern: new RegExp(`${base}/${name}$`), action: "DeleteFunction", handle: ([fn]) => (state.deleteFunction(fn!), { status: 204 }) },
    { method: "POST", pattern: new RegExp(`${base}/${name}/versions$`), action: "PublishFunctionVersion", handle: ([fn], body, req) => ({ status: 200, body: state.publishVersion(fn!, bodyOf("PublishFunctionVersion", body, req.headers["content-type"])) }) },
    { method: "GET", pattern: new RegExp(`${base}/${name}/versions$`), action: "ListFunctionVersions", handle: ([fn], _, __, query) => ({ status: 200, body: state.listVersions(fn!, query) }) },
    { method: "DELETE", pattern: new RegExp(`${base}/${name}/versions/${name}$`), action: "DeleteFunctionVersion", handle: ([fn, id]) => (state.deleteVersion(fn!, id!), { status: 204 }) },
    { method: "POST", pattern: new RegExp(`${base}/${name}/aliases$`), action: "CreateAlias", handle: ([fn], body, req) => ({ status: 200, body: state.createAlias(fn!, bodyOf("CreateAlias", body, req.headers["content-type"])) }) },
    { method: "GET", pattern: new RegExp(`${base}/${name}/aliases$`), action: "ListAliases", handle: ([fn]) => ({ status: 200, body: state.listAliases(fn!) }) },
    { method: "GET", pattern: new RegExp(`${base}/${name}/aliases/${name}$`), action: "GetAlias", handle: ([fn, alias]) => ({ status: 200, body: state.getAlias(fn!, alias!) }) },
    { method: "PUT", pattern: new RegExp(`${base}/${name}/aliases/${name}$`), action: "UpdateAlias", handle: ([fn, alias], body, req) => ({ status: 200, body: state.updateAlias(fn!, alias!, bodyOf("UpdateAlias", body, req.headers["content-type"])) }) },
    { method: "DELETE", pattern: new RegExp(`${base}/${name}/aliases/${name}$`), action: "DeleteAlias", handle: ([fn, alias]) => (state.deleteAlias(fn!, alias!), { status: 204 }) },
  ];
}

function reply(res: ServerResponse, status: number, requestId: string, body?: Body, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "x-acs-request-id": requestId,
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    "content-length": String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return raw.toString("utf8");
  }
}

export async function startFcStandIn(options: FcStandInOptions): Promise<FcStandIn> {
  const state = new FcState({
    region: options.region ?? "cn-hangzhou",
    accountId: options.accountId ?? "1234567890123456",
    updateReads: options.updateReads ?? 2,
    maxAdditionalVersions: options.maxAdditionalVersions ?? 1,
  });
  const table = routes(state);
  const requests: FcRecordedRequest[] = [];
  const faults: Array<{ fault: InjectedFault; remaining: number }> = [];
  const seenNonces = new Set<string>();

  const serve = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const requestId = randomUUID().toUpperCase();
    const { path, query } = splitRequestTarget(req.url ?? "/");
    const method = req.method ?? "GET";
    const action = String(req.headers["x-acs-action"] ?? "");
    const record: FcRecordedRequest = { action, method, path, query, status: 0, ...(raw.length > 0 ? { body: parseJson(raw) } : {}) };
    requests.push(record);
    const answer = (status: number, body?: Body, headers?: Record<string, string>) => {
      record.status = status;
      reply(res, status, requestId, body, headers);
    };
    const fail = (status: number, code: string, message: string, headers?: Record<string, string>) => answer(status, { Code: code, Message: message, RequestId: requestId }, headers);

    const verdict = verifyAcs3Request({ method, path, query, headers: req.headers, body: raw }, options.credentials, { seenNonces });
    if (!verdict.ok) return fail(verdict.status, verdict.code, verdict.message);
    record.accessKeyId = verdict.accessKeyId;
    if (req.headers["x-acs-version"] !== API_VERSION) return fail(400, "InvalidVersion", `Specified parameter Version '${String(req.headers["x-acs-version"])}' is not valid.`);
    const route = table.find((entry) => entry.method === method && entry.pattern.test(path));
    if (!route || route.action !== action) return fail(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.");

    const injected = faults.find((entry) => entry.remaining > 0);
    if (injected) {
      injected.remaining -= 1;
      return fail(injected.fault.status, injected.fault.code, injected.fault.message, injected.fault.headers);
    }
    try {
      const params = route.pattern.exec(path)!.slice(1).map((segment) => decodeURIComponent(segment));
      const result = route.handle(params, raw, req, query);
      answer(result.status, result.body);
    } catch (error) {
      if (error instanceof FcFault) return fail(error.status, error.code, error.message);
      fail(500, "InternalError", `stand-in bug: ${(error as Error).stack ?? String(error)}`);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => serve(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    url: `http://${endpoint}`,
    state,
    requests,
    throttleNext(throttle = {}) {
      const headers: Record<string, string> = { ...throttle.headers };
      if (throttle.retryAfterMs !== undefined) headers["x-acs-retry-after"] = String(throttle.retryAfterMs);
      faults.push({
        remaining: throttle.count ?? 1,
        fault: { status: throttle.status ?? 429, code: throttle.code ?? "Throttling.User", message: throttle.message ?? "Request was denied due to user flow control.", headers },
      });
    },
    failNext(fault, count = 1) {
      faults.push({ fault, remaining: count });
    },
    actions(action) {
      return requests.filter((request) => request.action === action);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
