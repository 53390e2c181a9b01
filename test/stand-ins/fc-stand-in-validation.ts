// What the FC 3.0 stand-in checks in request bodies: fields the API knows (the SDK's generated
// models list them), JSON types, required fields, and the documented limits (memory 128 MB–32 GB in
// steps of 64, cpu 0.05–16 in steps of 0.05 with memory:cpu between 1 and 4 GB per vCPU, timeout
// 1–86400 s, instance concurrency 1–200, descriptions up to 256 characters). A failure is FC's
// 400 InvalidArgument naming the field.
import { CreateAliasInput, CreateFunctionInput, PublishVersionInput, UpdateAliasInput, UpdateFunctionInput } from "@alicloud/fc20230330";

export class FcFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new FcFault(400, "InvalidArgument", message);

export const RUNTIMES = [
  "nodejs20", "nodejs18", "nodejs16", "nodejs14", "nodejs12",
  "python3.12", "python3.10", "python3.9", "python3",
  "java11", "java8", "php7.2", "dotnetcore3.1", "go1",
  "custom", "custom.debian10", "custom.debian11", "custom.debian12", "custom-container",
];
export const NAME = /^[a-zA-Z_][a-zA-Z0-9_-]{0,127}$/;

const KNOWN = {
  CreateFunction: new Set(Object.keys(CreateFunctionInput.names())),
  UpdateFunction: new Set(Object.keys(UpdateFunctionInput.names())),
  PublishFunctionVersion: new Set(Object.keys(PublishVersionInput.names())),
  CreateAlias: new Set(Object.keys(CreateAliasInput.names())),
  UpdateAlias: new Set(Object.keys(UpdateAliasInput.names())),
};

export type Body = Record<string, unknown>;

/** The parsed JSON object of a request, with no field the action does not define. */
export function bodyOf(action: keyof typeof KNOWN, raw: Buffer, contentType: string | undefined): Body {
  if (raw.length === 0) return {};
  if (!contentType?.startsWith("application/json")) throw invalid(`content-type must be application/json, got ${contentType ?? "none"}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw invalid("the request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalid("the request body must be a JSON object");
  for (const key of Object.keys(parsed)) {
    if (!KNOWN[action].has(key)) throw invalid(`unknown field '${key}' for ${action}`);
  }
  return parsed as Body;
}

export function optionalString(body: Body, field: string, max = 256): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} is longer than ${max} characters`);
  return value;
}

export function requiredString(body: Body, field: string, max = 256): string {
  const value = optionalString(body, field, max);
  if (value === undefined || value === "") throw invalid(`${field} is required`);
  return value;
}

function optionalNumber(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalid(`${field} must be a number`);
  return value;
}

function wholeIn(body: Body, field: string, min: number, max: number): number | undefined {
  const value = optionalNumber(body, field);
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) throw invalid(`${field} must be a whole number from ${min} to ${max}, got ${value}`);
  return value;
}

export interface FunctionSettings {
  runtime?: string;
  handler?: string;
  description?: string;
  memorySize?: number;
  cpu?: number;
  timeout?: number;
  instanceConcurrency?: number;
  environmentVariables?: Record<string, string>;
  zip?: Buffer;
  image?: string;
}

/** The settings a CreateFunction or UpdateFunction body gives (absent fields stay as they are). */
export function functionSettings(body: Body): FunctionSettings {
  const settings: FunctionSettings = {};
  const runtime = optionalString(body, "runtime");
  if (runtime !== undefined) {
    if (!RUNTIMES.includes(runtime)) throw invalid(`runtime '${runtime}' is not supported; supported runtimes: ${RUNTIMES.join(", ")}`);
    settings.runtime = runtime;
  }
  const handler = optionalString(body, "handler", 128);
  if (handler !== undefined) settings.handler = handler;
  const description = optionalString(body, "description");
  if (description !== undefined) settings.description = description;
  const memory = wholeIn(body, "memorySize", 128, 32768);
  if (memory !== undefined) {
    if (memory % 64 !== 0) throw invalid(`memorySize must be a multiple of 64 MB, got ${memory}`);
    settings.memorySize = memory;
  }
  const cpu = optionalNumber(body, "cpu");
  if (cpu !== undefined) {
    if (cpu < 0.05 || cpu > 16 || Math.abs(cpu * 20 - Math.round(cpu * 20)) > 1e-9) throw invalid(`cpu must be from 0.05 to 16 vCPU in steps of 0.05, got ${cpu}`);
    settings.cpu = cpu;
  }
  const timeout = wholeIn(body, "timeout", 1, 86400);
  if (timeout !== undefined) settings.timeout = timeout;
  const concurrency = wholeIn(body, "instanceConcurrency", 1, 200);
  if (concurrency !== undefined) settings.instanceConcurrency = concurrency;
  const env = body["environmentVariables"];
  if (env !== undefined && env !== null) {
    if (typeof env !== "object" || Array.isArray(env)) throw invalid("environmentVariables must be a map of strings");
    for (const [key, value] of Object.entries(env)) {
      if (typeof value !== "string") throw invalid(`environmentVariables.${key} must be a string`);
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) throw invalid(`environmentVariables key '${key}' is not a valid variable name`);
    }
    settings.environmentVariables = env as Record<string, string>;
  }
  const code = body["code"];
  if (code !== undefined && code !== null) {
    if (typeof code !== "object" || Array.isArray(code)) throw invalid("code must be an object");
    const location = code as Body;
    if (location["ossBucketName"] !== undefined || location["ossObjectName"] !== undefined) throw invalid("code from OSS is not served by this stand-in");
    const zipFile = requiredString(location, "zipFile", Number.MAX_SAFE_INTEGER);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(zipFile)) throw invalid("code.zipFile must be base64");
    const zip = Buffer.from(zipFile, "base64");
    if (zip.length < 22 || zip.readUInt32LE(zip.length - 22) !== 0x06054b50) throw invalid("code.zipFile is not a zip archive");
    settings.zip = zip;
  }
  const container = body["customContainerConfig"];
  if (container !== undefined && container !== null) {
    if (typeof container !== "object" || Array.isArray(container)) throw invalid("customContainerConfig must be an object");
    settings.image = requiredString(container as Body, "image", 1024);
  }
  return settings;
}

/** The cpu : memory rule once both are known. */
export function checkCpuMemory(cpu: number, memorySize: number): void {
  const gbPerCpu = memorySize / 1024 / cpu;
  if (gbPerCpu < 1 - 1e-9 || gbPerCpu > 4 + 1e-9) {
    throw invalid(`memorySize ${memorySize} MB and cpu ${cpu} do not fit: memory must be 1 to 4 GB per vCPU`);
  }
}

/** additionalVersionWeight: version id → fraction in [0, 1]. */
export function weights(body: Body): Record<string, number> | undefined {
  const value = body["additionalVersionWeight"];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("additionalVersionWeight must be a map of version id to weight");
  for (const [version, weight] of Object.entries(value)) {
    if (typeof weight !== "number" || !(weight >= 0 && weight <= 1)) throw invalid(`additionalVersionWeight.${version} must be a number from 0 to 1, got ${JSON.stringify(weight)}`);
  }
  return value as Record<string, number>;
}
