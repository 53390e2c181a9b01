// The transport to SAE's OpenAPI (2019-05-06): no SAE SDK is published on our registry, so every
// action goes through @alicloud/openapi-core's generic callApi (ROA style, signature V3). Nearly
// all parameters travel in the query string, also for POST and PUT; the few SAE reads from a form
// body (a ConfigMap's Data) go as formData. Every failure comes out as a ProviderError.
import OpenApiModule, { $OpenApiUtil } from "@alicloud/openapi-core";
import { ProviderError } from "../../errors";
import { alicloudConfig, cjsDefault, providerErrorFrom, serviceErrorOf, type AlicloudCredentials } from "../alicloud-client";

const OpenApi = cjsDefault(OpenApiModule);
type RuntimeOptions = Parameters<InstanceType<typeof OpenApi>["callApi"]>[2];

export const SAE_API_VERSION = "2019-05-06";

/** Method and path of each action Gust uses (from SAE's API metadata). */
export const SAE_ACTIONS = {
  DescribeApplicationConfig: { method: "GET", pathname: "/pop/v1/sam/app/describeApplicationConfig" },
  DescribeApplicationGroups: { method: "GET", pathname: "/pop/v1/sam/app/describeApplicationGroups" },
  DescribeApplicationInstances: { method: "GET", pathname: "/pop/v1/sam/app/describeApplicationInstances" },
  ListAppVersions: { method: "GET", pathname: "/pop/v1/sam/app/listAppVersions" },
  DeployApplication: { method: "POST", pathname: "/pop/v1/sam/app/deployApplication" },
  RollbackApplication: { method: "PUT", pathname: "/pop/v1/sam/app/rollbackApplication" },
  ListChangeOrders: { method: "GET", pathname: "/pop/v1/sam/changeorder/ListChangeOrders" },
  DescribeChangeOrder: { method: "GET", pathname: "/pop/v1/sam/changeorder/DescribeChangeOrder" },
  ConfirmPipelineBatch: { method: "GET", pathname: "/pop/v1/sam/changeorder/ConfirmPipelineBatch" },
  AbortAndRollbackChangeOrder: { method: "PUT", pathname: "/pop/v1/sam/changeorder/AbortAndRollbackChangeOrder" },
  ListGreyTagRoute: { method: "GET", pathname: "/pop/v1/sam/tagroute/greyTagRouteList" },
  CreateGreyTagRoute: { method: "POST", pathname: "/pop/v1/sam/tagroute/greyTagRoute" },
  UpdateGreyTagRoute: { method: "PUT", pathname: "/pop/v1/sam/tagroute/greyTagRoute" },
  DeleteGreyTagRoute: { method: "DELETE", pathname: "/pop/v1/sam/tagroute/greyTagRoute" },
  ListNamespacedConfigMaps: { method: "GET", pathname: "/pop/v1/sam/configmap/listNamespacedConfigMaps" },
  CreateConfigMap: { method: "POST", pathname: "/pop/v1/sam/configmap/configMap" },
  UpdateConfigMap: { method: "PUT", pathname: "/pop/v1/sam/configmap/configMap" },
} as const satisfies Record<string, { method: string; pathname: string }>;

export type SaeAction = keyof typeof SAE_ACTIONS;

export type QueryValue = string | number | boolean | undefined;

export interface SaeClientOptions {
  region: string;
  /** Host (and port) of the API. */
  endpoint: string;
  protocol?: "http" | "https";
  credentials?: AlicloudCredentials;
}

/** SAE codes that mean "not now": another change is under way, or the service is busy. */
const RETRYABLE = new Set(["Application.ChangerOrderRunning", "Application.InvalidStatus", "System.Upgrading", "ServiceUnavailable"]);
/** SAE codes that mean the release's settings name something that is not there. */
const SETTINGS = /^(InvalidApplication\.NotFound|InvalidNamespaceId\.NotFound|InvalidPackageType|InvalidParameter|MinReadyInstances|Package\.Version|App\.Package\.Version)/;

export class SaeClient {
  private readonly client: InstanceType<typeof OpenApi>;
  private readonly protocol: string;

  constructor(options: SaeClientOptions) {
    const protocol = options.protocol ?? "https";
    this.protocol = protocol.toUpperCase();
    this.client = new OpenApi(alicloudConfig({ region: options.region, endpoint: options.endpoint, protocol, ...(options.credentials ? { credentials: options.credentials } : {}) }));
  }

  /** Calls `action` and gives its Data (SAE wraps every answer in {RequestId, Code, Success, Data, …}). */
  async call<T>(action: SaeAction, query: Record<string, QueryValue>, form?: Record<string, string>): Promise<T> {
    const spec = SAE_ACTIONS[action];
    const params = new $OpenApiUtil.Params({
      action,
      version: SAE_API_VERSION,
      protocol: this.protocol,
      pathname: spec.pathname,
      method: spec.method,
      authType: "AK",
      style: "ROA",
      reqBodyType: form ? "formData" : "json",
      bodyType: "json",
    });
    const request = new $OpenApiUtil.OpenApiRequest({ headers: {}, query: queryStrings(query), ...(form ? { body: form } : {}) });
    let answer: { body?: unknown };
    try {
      // Runtime options are read field by field; the client's configuration covers them.
      answer = await this.client.callApi(params, request, {} as RuntimeOptions);
    } catch (error) {
      throw saeErrorFrom(error, action);
    }
    const body = (answer.body ?? {}) as { Success?: boolean; ErrorCode?: string; Code?: string; Message?: string; RequestId?: string; Data?: unknown };
    // SAE may answer 200 with Success false and the error in the body.
    if (body.Success === false) {
      const code = body.ErrorCode || String(body.Code ?? "unknown");
      throw classify(`${action} failed: ${code}: ${body.Message ?? "no message"}${body.RequestId ? ` (request ${body.RequestId})` : ""}`, code, 200);
    }
    return body.Data as T;
  }
}

function queryStrings(query: Record<string, QueryValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = String(value);
  return out;
}

function classify(message: string, code: string, status: number, cause?: unknown): ProviderError {
  if (RETRYABLE.has(code) || code.startsWith("Throttling")) return new ProviderError(message, { retryable: true, code, status, cause });
  return new ProviderError(message, { retryable: false, code, status, cause, fault: SETTINGS.test(code) ? "user" : "infrastructure" });
}

/** SAE's own codes first (a running change order is worth a retry), then the shared mapping. */
export function saeErrorFrom(error: unknown, action: string): ProviderError {
  const generic = providerErrorFrom(error, action);
  const service = serviceErrorOf(error);
  if (!service || generic.retryable || !(RETRYABLE.has(service.code) || SETTINGS.test(service.code))) return generic;
  return classify(generic.message, service.code, service.statusCode, error);
}
