// A loopback SAE OpenAPI (2019-05-06) for the SAE deploy provider's tests. Like the POP gateway in
// front of SAE it verifies every request's ACS3-HMAC-SHA256 signature for real (./acs3-signature.ts),
// checks x-acs-action / x-acs-version against the path and method, and each parameter against SAE's
// API metadata (./sae-stand-in-schema.ts); then SAE's behaviour (./sae-stand-in-handlers.ts,
// ./sae-stand-in-resources.ts) over state that keeps applications, instances, deployment history,
// change orders with batches that advance one step per request served (./sae-stand-in-model.ts),
// grey tag routes and ConfigMaps. Answers use SAE's envelope {RequestId, Code, Message, Success,
// ErrorCode, TraceId, Data}; gateway refusals {RequestId, HostId, Code, Message, Recommend}.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { splitRequestTarget, verifyAcs3Request } from "./acs3-signature";
import * as actions from "./sae-stand-in-handlers";
import { SaeFault, type SaeState } from "./sae-stand-in-handlers";
import { SaeModel, tickTime, type ChangeOrder, type ScriptedBatchFailure, type StandInApp } from "./sae-stand-in-model";
import * as resources from "./sae-stand-in-resources";
import { ACTIONS, checkParams, type Params } from "./sae-stand-in-schema";

export interface SaeStandInAppSeed {
  appId: string;
  replicas: number;
  /** The release the application serves at the start (deployed by other means). */
  imageUrl?: string;
  packageUrl?: string;
  packageVersion?: string;
  /** Default Image with imageUrl, FatJar with a package. */
  packageType?: string;
  namespaceId?: string;
}

export interface SaeStandInOptions {
  /** AccessKey id → secret accepted by the gateway. */
  credentials: Record<string, string>;
  apps: SaeStandInAppSeed[];
  region?: string;
  /** Requests a batch takes once running (the logical clock). Default 2. */
  stepsPerBatch?: number;
}

export interface RecordedSaeCall {
  action: string;
  method: string;
  params: Params;
  /** The gateway's or SAE's answer code ("200" when it succeeded). */
  code: string;
}

type Handler = (state: SaeState, params: Params) => unknown;

const HANDLERS: Record<string, Handler> = {
  DescribeApplicationConfig: actions.describeApplicationConfig,
  DescribeApplicationGroups: actions.describeApplicationGroups,
  DescribeApplicationInstances: actions.describeApplicationInstances,
  ListAppVersions: actions.listAppVersions,
  DeployApplication: actions.deployApplication,
  RollbackApplication: actions.rollbackApplication,
  ListChangeOrders: actions.listChangeOrders,
  DescribeChangeOrder: actions.describeChangeOrder,
  ConfirmPipelineBatch: actions.confirmPipelineBatch,
  AbortAndRollbackChangeOrder: actions.abortAndRollbackChangeOrder,
  ListGreyTagRoute: resources.listGreyTagRoute,
  CreateGreyTagRoute: resources.createGreyTagRoute,
  UpdateGreyTagRoute: resources.updateGreyTagRoute,
  DeleteGreyTagRoute: resources.deleteGreyTagRoute,
  ListNamespacedConfigMaps: resources.listNamespacedConfigMaps,
  CreateConfigMap: resources.createConfigMap,
  UpdateConfigMap: resources.updateConfigMap,
};

export class SaeStandIn {
  readonly calls: RecordedSaeCall[] = [];
  private readonly state: SaeState;
  private readonly seenNonces = new Set<string>();
  private readonly throttled: Array<{ status: number; code: string }> = [];

  private constructor(
    private readonly server: Server,
    /** host:port, what the SDK's endpoint setting takes. */
    readonly endpoint: string,
    private readonly options: SaeStandInOptions,
  ) {
    this.state = { model: new SaeModel(options.stepsPerBatch ?? 2), routes: [], configMaps: [], nextId: { value: 1 } };
    for (const seed of options.apps) this.addApp(seed);
  }

  static async start(options: SaeStandInOptions): Promise<SaeStandIn> {
    let standIn: SaeStandIn | undefined;
    const server = createServer((req, res) => {
      standIn!.serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) saeAnswer(res, 500, "InternalError", `stand-in bug: ${(error as Error).stack ?? String(error)}`, null);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    standIn = new SaeStandIn(server, `127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    return standIn;
  }

  addApp(seed: SaeStandInAppSeed): void {
    const packageType = seed.packageType ?? (seed.imageUrl ? "Image" : "FatJar");
    const deployed = { ...(seed.imageUrl ? { imageUrl: seed.imageUrl } : {}), ...(seed.packageUrl ? { packageUrl: seed.packageUrl, packageVersion: seed.packageVersion ?? "1" } : {}), enableGreyTagRoute: false };
    const appName = `app-${seed.appId.slice(0, 8)}`;
    const app: StandInApp = {
      appId: seed.appId,
      appName,
      namespaceId: seed.namespaceId ?? this.options.region ?? "cn-hangzhou",
      regionId: this.options.region ?? "cn-hangzhou",
      groupId: randomUUID(),
      packageType,
      replicas: seed.replicas,
      config: deployed,
      instances: Array.from({ length: seed.replicas }, (_, index) => ({ instanceId: `${appName}-seed-${index}`, runs: deployed, createTimeStamp: tickTime() })),
      versions: [{ id: randomUUID(), createTime: String(tickTime()), deployed }],
    };
    this.state.model.apps.set(app.appId, app);
  }

  /**
   * The next requests are refused the way SAE's gateway throttles: Throttling.User with HTTP 400 by
   * default; `Throttling.Api` or an overloaded `ServiceUnavailable` 503 when asked.
   */
  throttleNext(refusal: { count?: number; status?: number; code?: string } = {}): void {
    this.throttled.push(...Array.from({ length: refusal.count ?? 1 }, () => ({ status: refusal.status ?? 400, code: refusal.code ?? "Throttling.User" })));
  }

  /** The next change order's next batch fails with `message` (stuck: the order stays open, SubStatus 1). */
  failNextBatch(failure: ScriptedBatchFailure): void {
    this.state.model.failNextOrder = failure;
  }

  app(appId: string): StandInApp {
    const app = this.state.model.apps.get(appId);
    if (!app) throw new Error(`no application ${appId} in the stand-in`);
    return app;
  }

  /** Running instances per release (image URL or package version) of an application. */
  runningVersions(appId: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const instance of this.app(appId).instances) {
      const key = instance.runs.imageUrl && !instance.runs.packageVersion ? instance.runs.imageUrl : (instance.runs.packageVersion ?? "");
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  changeOrders(appId: string): ChangeOrder[] {
    return this.state.model.orders.filter((order) => order.appId === appId);
  }

  greyTagRoutes(appId: string): SaeState["routes"] {
    return this.state.routes.filter((route) => route.appId === appId);
  }

  configMaps(): SaeState["configMaps"] {
    return this.state.configMaps;
  }

  /** Calls of `action` that SAE answered successfully. */
  succeeded(action: string): RecordedSaeCall[] {
    return this.calls.filter((call) => call.action === action && call.code === "200");
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? "GET";
    const { path, query } = splitRequestTarget(req.url ?? "/");
    const action = String(req.headers["x-acs-action"] ?? "");
    const record = (code: string, params: Params = {}) => this.calls.push({ action, method, params, code });

    const verdict = verifyAcs3Request({ method, path, query, headers: req.headers, body }, this.options.credentials, { seenNonces: this.seenNonces });
    if (!verdict.ok) {
      record(verdict.code);
      return gatewayError(res, verdict.status, verdict.code, verdict.message);
    }
    if (req.headers.host !== this.endpoint) {
      record("InvalidHost");
      return gatewayError(res, 400, "InvalidHost", `The host ${String(req.headers.host)} does not serve this API.`);
    }
    const spec = ACTIONS[action];
    if (!spec || spec.method !== method || spec.path !== path) {
      record("InvalidAction.NotFound");
      return gatewayError(res, 404, "InvalidAction.NotFound", `Specified api is not found, please check your url and method: ${method} ${path} (${action}).`);
    }
    if (req.headers["x-acs-version"] !== "2019-05-06") {
      record("InvalidVersion");
      return gatewayError(res, 400, "InvalidVersion", "Specified parameter Version is not valid.");
    }
    const refusal = this.throttled.shift();
    if (refusal) {
      record(refusal.code);
      const message = refusal.code.startsWith("Throttling") ? "Request was denied due to user flow control." : "The request has failed due to a temporary failure of the server.";
      return gatewayError(res, refusal.status, refusal.code, message);
    }

    const flatQuery = Object.fromEntries(Object.entries(query).map(([key, value]) => [key, Array.isArray(value) ? value[0]! : value]));
    const form = String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded") ? Object.fromEntries(new URLSearchParams(body.toString("utf8"))) : {};
    const checked = checkParams(spec, flatQuery, form);
    if ("problem" in checked) {
      record(checked.problem.code);
      return saeAnswer(res, 400, checked.problem.code, checked.problem.message, null);
    }
    // One step of the logical clock per request SAE serves: change orders move while Gust looks.
    this.state.model.advance();
    try {
      const data = HANDLERS[action]!(this.state, checked.params);
      record("200", checked.params);
      saeAnswer(res, 200, "200", "success", data);
    } catch (error) {
      if (!(error instanceof SaeFault)) throw error;
      record(error.code, checked.params);
      saeAnswer(res, error.status, error.code, error.message, null);
    }
  }
}

export function startSaeStandIn(options: SaeStandInOptions): Promise<SaeStandIn> {
  return SaeStandIn.start(options);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json;charset=utf-8", "x-acs-request-id": (body as { RequestId: string }).RequestId });
  res.end(JSON.stringify(body));
}

function saeAnswer(res: ServerResponse, status: number, code: string, message: string, data: unknown): void {
  const success = status === 200;
  send(res, status, { RequestId: randomUUID().toUpperCase(), Code: code, Message: message, Success: success, ErrorCode: success ? "" : code, TraceId: randomUUID().replaceAll("-", ""), Data: data });
}

function gatewayError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, { RequestId: randomUUID().toUpperCase(), HostId: "sae.cn-hangzhou.aliyuncs.com", Code: code, Message: message, Recommend: `https://api.aliyun.com/troubleshoot?q=${code}` });
}
