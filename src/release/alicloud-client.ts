// What the Alibaba Cloud deploy providers (FC, SAE) share: the OpenAPI client configuration for one
// product endpoint, and the mapping of the SDK's failures onto ProviderError (who is at fault, whether
// retrying can help, the wait the service asked for).
import { $OpenApiUtil } from "@alicloud/openapi-core";
import CredentialModule from "@alicloud/credentials";
import { ProviderError } from "../errors";

export interface AlicloudCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token, with temporary credentials. */
  securityToken?: string;
}

export interface AlicloudConfigOptions {
  region: string;
  /** Host (and port) of the product's API, e.g. fcv3.cn-hangzhou.aliyuncs.com or 127.0.0.1:8080. */
  endpoint: string;
  /** "https" (default); "http" only for loopback stand-ins. */
  protocol?: "http" | "https";
  /** Absent: the default chain (environment, RRSA/OIDC in a pod, CLI profile, ECS RAM role). */
  credentials?: AlicloudCredentials;
  readTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * The Alibaba SDK packages are CommonJS with `exports.default`: under Node's ESM loader a default
 * import is the whole `module.exports`, under a bundler's interop it is the class. Either way this
 * gives the class.
 */
export function cjsDefault<T>(module: T): T {
  const inner = (module as { default?: T }).default;
  return typeof inner === "function" ? inner : module;
}

const Credential = cjsDefault(CredentialModule);

/**
 * The AccessKey from Gust's settings (alicloud-access-key-id / -secret): both, or neither for the
 * default chain. One without the other is a configuration mistake, named as such.
 */
export function alicloudCredentialsFrom(settings: { alicloudAccessKeyId?: string | undefined; alicloudAccessKeySecret?: string | undefined }): AlicloudCredentials | undefined {
  const { alicloudAccessKeyId: id, alicloudAccessKeySecret: secret } = settings;
  if (id && secret) return { accessKeyId: id, accessKeySecret: secret };
  if (!id && !secret) return undefined;
  const missing = id ? "alicloud-access-key-secret (GUST_ALICLOUD_ACCESS_KEY_SECRET)" : "alicloud-access-key-id (GUST_ALICLOUD_ACCESS_KEY_ID)";
  throw new ProviderError(`${missing} is not set: give both halves of the AccessKey, or neither to use the default credential chain`, {
    retryable: false,
    code: "credentials_incomplete",
    fault: "user",
  });
}

export function alicloudConfig(options: AlicloudConfigOptions): $OpenApiUtil.Config {
  const base = {
    regionId: options.region,
    endpoint: options.endpoint,
    protocol: options.protocol ?? "https",
    readTimeout: options.readTimeoutMs ?? 30_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  };
  if (options.credentials) {
    return new $OpenApiUtil.Config({
      ...base,
      accessKeyId: options.credentials.accessKeyId,
      accessKeySecret: options.credentials.accessKeySecret,
      ...(options.credentials.securityToken ? { securityToken: options.credentials.securityToken } : {}),
    });
  }
  return new $OpenApiUtil.Config({ ...base, credential: new Credential() });
}

/** A failure the SDK reported for an HTTP answer (ClientError, ServerError, ThrottlingError). */
export interface AlicloudServiceError {
  name: string;
  code: string;
  statusCode: number;
  message: string;
  requestId?: string;
  retryAfter?: number;
  data?: Record<string, unknown>;
}

/** The service's answer inside an SDK error, when there was one. */
export function serviceErrorOf(error: unknown): AlicloudServiceError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const candidate = error as Partial<AlicloudServiceError>;
  if (typeof candidate.statusCode !== "number" || typeof candidate.code !== "string") return undefined;
  return candidate as AlicloudServiceError;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "ESOCKETTIMEDOUT"]);
/** 4xx codes that mean the release's settings or Gust's credentials are wrong. */
const USER_FAULT = /NotFound|Invalid|Missing|Forbidden|AccessDenied|NoPermission|Signature|Unauthorized|EntityTooLarge|LimitExceeded/i;
const RETRYABLE_CODES = /Throttl|ServiceUnavailable|InternalError|InternalFailure|ResourceExhausted|Concurrent|TooManyRequests/i;

function serviceMessage(error: AlicloudServiceError): string {
  const data = error.data ?? {};
  const said = data["Message"] ?? data["message"] ?? data["errorMessage"];
  return typeof said === "string" && said !== "" ? said : error.message;
}

/** Maps anything the SDK (or the network under it) threw during `action` onto a ProviderError. */
export function providerErrorFrom(error: unknown, action: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const service = serviceErrorOf(error);
  if (service) {
    const status = service.statusCode;
    const request = service.requestId && service.requestId !== "undefined" ? ` (request ${service.requestId})` : "";
    const message = `${action} failed: ${service.code} (HTTP ${status}): ${serviceMessage(service)}${request}`;
    const retryable = service.name === "ThrottlingError" || status === 429 || status >= 500 || RETRYABLE_CODES.test(service.code);
    if (retryable) {
      const retryAfterMs = typeof service.retryAfter === "number" && Number.isFinite(service.retryAfter) ? service.retryAfter : undefined;
      return new ProviderError(message, { retryable: true, code: service.code, status, cause: error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    }
    const userFault = status === 400 || status === 401 || status === 403 || status === 404 || USER_FAULT.test(service.code);
    return new ProviderError(message, { retryable: false, code: service.code, status, cause: error, fault: userFault ? "user" : "infrastructure" });
  }
  const text = error instanceof Error ? error.message : String(error);
  const systemCode = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const named = error instanceof Error ? error.name : "";
  if ((typeof systemCode === "string" && (NETWORK_CODES.has(systemCode) || systemCode.startsWith("UND_ERR"))) || /timeout|socket hang up/i.test(`${named} ${text}`)) {
    return new ProviderError(`${action} failed: network error: ${text}`, { retryable: true, code: "network_error", cause: error });
  }
  if (systemCode === "InvalidCredentials" || /credential/i.test(text)) {
    return new ProviderError(`${action} failed: no usable Alibaba Cloud credentials: ${text}`, { retryable: false, code: "credentials_unavailable", fault: "user", cause: error });
  }
  // Anything else is most likely an answer the SDK could not read (a proxy's error page): worth a retry.
  return new ProviderError(`${action} failed: ${text}`, { retryable: true, code: "provider_failed", cause: error });
}
