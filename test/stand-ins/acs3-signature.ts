// Verifies Alibaba Cloud signature V3 (ACS3-HMAC-SHA256) the way the OpenAPI gateway (POP) in front of
// FC 3.0 and SAE does, so a loopback stand-in rejects a request the real service would reject.
// The canonical request is rebuilt from what arrived on the wire and must match byte for byte what
// @alicloud/openapi-core signs (utils.js getAuthorization):
//   METHOD \n canonical URI \n canonical query \n canonical headers \n signed headers \n hex sha256(body)
// canonical URI: the path as sent (segments already percent-encoded by the SDK) with `+` → %20,
//   `*` → %2A, %7E → ~, exactly the SDK's normalisation;
// canonical query: keys sorted, `key=value` with the value RFC 3986-encoded (encodeURIComponent plus
//   !'()*), joined by `&`;
// canonical headers: every signed header, lowercase `name:value` with trimmed values, sorted, one per
//   line (repeated headers: values sorted and joined by `,`);
// string to sign: "ACS3-HMAC-SHA256\n" + hex sha256(canonical request); signature: hex HMAC-SHA256.
// Error codes and statuses are the gateway's published ones (IncompleteSignature, SignatureDoesNotMatch
// 400, InvalidAccessKeyId.NotFound 404, InvalidTimeStamp.Expired, SignatureNonceUsed).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface Acs3Request {
  method: string;
  /** The path as it arrived, still percent-encoded (the part of the request target before `?`). */
  path: string;
  /** Decoded query parameters (URLSearchParams values); a repeated key gives an array. */
  query: Record<string, string | string[]>;
  /** Node's IncomingHttpHeaders (lowercase names) or any map of header names to values. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type Acs3Verdict = { ok: true; accessKeyId: string } | { ok: false; status: number; code: string; message: string };

export interface Acs3Options {
  /** The gateway's clock (ms since the epoch). */
  now?: number;
  /** How far x-acs-date may be from now: 15 minutes, as documented for V3. */
  maxSkewMs?: number;
  /** Nonces already seen: a replayed one is refused with SignatureNonceUsed, a new one is added. */
  seenNonces?: Set<string>;
}

export const ACS3_ALGORITHM = "ACS3-HMAC-SHA256";
const FIFTEEN_MINUTES = 15 * 60_000;
/** Headers every V3 request carries and must sign. */
const REQUIRED_SIGNED = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];

/** RFC 3986 encoding as the SDK applies it to query values. */
export function acs3Encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function canonicalUri(path: string): string {
  return (path === "" ? "/" : path).replace(/\+/g, "%20").replace(/\*/g, "%2A").replace(/%7E/g, "~");
}

export function canonicalQuery(query: Record<string, string | string[]>): string {
  const pairs: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([acs3Encode(key), acs3Encode(one)]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([key, value]) => `${key}=${value}`).join("&");
}

/** Header values by lowercase name, repeated headers kept apart. */
function headerValues(headers: Acs3Request["headers"]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }
  return values;
}

function parseAuthorization(value: string): { algorithm: string; credential: string; signedHeaders: string[]; signature: string } | undefined {
  const match = /^(\S+)\s+(.*)$/.exec(value.trim());
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[2]!.split(",")) {
    const equals = part.indexOf("=");
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) return undefined;
  return { algorithm: match[1]!, credential, signedHeaders: signedHeaders.split(";"), signature };
}

/** The canonical request for the given signed header names (exported for the stand-ins' own tests). */
export function canonicalRequest(request: Acs3Request, signedHeaders: string[]): string {
  const values = headerValues(request.headers);
  const lines = signedHeaders.map((name) => `${name}:${[...(values.get(name) ?? [])].map((v) => v.trim()).sort().join(",")}\n`);
  const payloadHash = createHash("sha256").update(request.body).digest("hex");
  return [request.method.toUpperCase(), canonicalUri(request.path), canonicalQuery(request.query), lines.join(""), signedHeaders.join(";"), payloadHash].join("\n");
}

export function acs3Signature(secret: string, canonical: string): string {
  const stringToSign = `${ACS3_ALGORITHM}\n${createHash("sha256").update(canonical).digest("hex")}`;
  return createHmac("sha256", secret).update(stringToSign).digest("hex");
}

/** Parses `YYYY-MM-DDTHH:mm:ssZ` strictly (the only form V3 accepts). */
function parseAcsDate(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function refuse(status: number, code: string, message: string): Acs3Verdict {
  return { ok: false, status, code, message };
}

export function verifyAcs3Request(request: Acs3Request, credentials: Record<string, string>, options: Acs3Options = {}): Acs3Verdict {
  const values = headerValues(request.headers);
  const single = (name: string) => values.get(name)?.[0];
  const authorization = single("authorization");
  if (!authorization) return refuse(400, "MissingAuthorization", "The Authorization header is required.");
  const parsed = parseAuthorization(authorization);
  if (!parsed) return refuse(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards.");
  if (parsed.algorithm !== ACS3_ALGORITHM) {
    return refuse(400, "InvalidSignatureMethod", `Specified signature method '${parsed.algorithm}' is not supported.`);
  }
  for (const name of ["x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256", "host"]) {
    if (!single(name)) return refuse(400, "MissingParameter", `The required header ${name} is missing.`);
  }
  // Every x-acs-* header present (and content-type, host) must be signed, as the V3 rules say.
  const signed = new Set(parsed.signedHeaders);
  const sortedSigned = [...parsed.signedHeaders].sort();
  if (sortedSigned.join(";") !== parsed.signedHeaders.join(";") || signed.size !== parsed.signedHeaders.length) {
    return refuse(400, "IncompleteSignature", "SignedHeaders must be lowercase names, sorted, without repeats.");
  }
  for (const name of [...REQUIRED_SIGNED, ...[...values.keys()].filter((key) => key.startsWith("x-acs-") || key === "content-type")]) {
    if (!signed.has(name)) return refuse(400, "IncompleteSignature", `The header ${name} must be signed.`);
  }
  for (const name of parsed.signedHeaders) {
    if (!values.has(name)) return refuse(400, "IncompleteSignature", `The signed header ${name} is not in the request.`);
  }

  const date = parseAcsDate(single("x-acs-date")!);
  if (date === undefined) return refuse(400, "InvalidTimeStamp.Format", "Specified x-acs-date is not in the yyyy-MM-ddTHH:mm:ssZ format.");
  if (Math.abs((options.now ?? Date.now()) - date) > (options.maxSkewMs ?? FIFTEEN_MINUTES)) {
    return refuse(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
  }

  const secret = credentials[parsed.credential];
  if (secret === undefined) return refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");

  const bodyHash = createHash("sha256").update(request.body).digest("hex");
  if (single("x-acs-content-sha256") !== bodyHash) {
    return refuse(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.");
  }
  const expected = Buffer.from(acs3Signature(secret, canonicalRequest(request, parsed.signedHeaders)), "utf8");
  const given = Buffer.from(parsed.signature, "utf8");
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return refuse(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
  }

  const nonce = single("x-acs-signature-nonce")!;
  if (options.seenNonces) {
    if (options.seenNonces.has(nonce)) return refuse(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    options.seenNonces.add(nonce);
  }
  return { ok: true, accessKeyId: parsed.credential };
}

/** Turns a Node request's target (`/path?query`) into the verifier's path and decoded query. */
export function splitRequestTarget(target: string): { path: string; query: Record<string, string | string[]> } {
  const question = target.indexOf("?");
  const path = question < 0 ? target : target.slice(0, question);
  const query: Record<string, string | string[]> = {};
  if (question >= 0) {
    for (const [key, value] of new URLSearchParams(target.slice(question + 1))) {
      const existing = query[key];
      query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
  }
  return { path, query };
}
