// Error answers of the Kubernetes API stand-in: metav1.Status objects with the reason, code and
// message texts the real API server uses, thrown as ApiError by handlers and written by the server.

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly body: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }

  get code(): number {
    return this.body.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusBody["details"]): StatusBody {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, ...(details ? { details } : {}), code };
}

export function success(details: StatusBody["details"]): StatusBody {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details, code: 200 };
}

export function notFound(plural: string, name: string): ApiError {
  return new ApiError(failure(404, "NotFound", `${plural} "${name}" not found`, { name, kind: plural }));
}

export function alreadyExists(plural: string, name: string): ApiError {
  return new ApiError(failure(409, "AlreadyExists", `${plural} "${name}" already exists`, { name, kind: plural }));
}

export function conflict(plural: string, name: string, why: string): ApiError {
  return new ApiError(failure(409, "Conflict", `Operation cannot be fulfilled on ${plural} "${name}": ${why}`, { name, kind: plural }));
}

/** 422 with one cause per field, the message listing them as the server does. */
export function invalid(kind: string, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const message = `${kind} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(", ")}]`}`;
  return new ApiError(failure(422, "Invalid", message, { name, kind, causes }));
}

export function badRequest(message: string): ApiError {
  return new ApiError(failure(400, "BadRequest", message));
}

export function unauthorized(): ApiError {
  return new ApiError(failure(401, "Unauthorized", "Unauthorized"));
}

export function methodNotAllowed(): ApiError {
  return new ApiError(failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`, {}),
    { "x-content-type-received": contentType },
  );
}

/** What a watch gets (as an ERROR event) when asked to resume from a compacted resourceVersion. */
export function expired(message: string): StatusBody {
  return failure(410, "Expired", message);
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(failure(429, "TooManyRequests", "Too many requests, please try again later.", { retryAfterSeconds }), {
    "retry-after": String(retryAfterSeconds),
  });
}

export function serverError(code: number, retryAfterSeconds?: number, text?: string): ApiError {
  const reason = code === 503 ? "ServiceUnavailable" : code === 504 ? "Timeout" : "InternalError";
  const standard =
    code === 503 ? "the server is currently unable to handle the request" : code === 504 ? "the server was unable to return a response in the time allotted" : "an error on the server (\"etcdserver: leader changed\") has prevented the request from succeeding";
  const message = text ?? standard;
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  return new ApiError(failure(code, reason, message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds }), headers);
}

export function fieldInvalid(field: string, value: unknown, why: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field };
}

export function fieldRequired(field: string): StatusCause {
  return { reason: "FieldValueRequired", message: "Required value", field };
}

export function fieldDuplicate(field: string, value: unknown): StatusCause {
  return { reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(value)}`, field };
}

export function fieldNotFound(field: string, value: unknown): StatusCause {
  return { reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(value)}`, field };
}

export function fieldForbidden(field: string, why: string): StatusCause {
  return { reason: "FieldValueForbidden", message: `Forbidden: ${why}`, field };
}

export function fieldTooLong(field: string, max: number): StatusCause {
  return { reason: "FieldValueTooLong", message: `Too long: must have at most ${max} bytes`, field };
}
