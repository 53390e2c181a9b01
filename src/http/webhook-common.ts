// What the GitHub and GitLab webhook routes share: header checks, JSON parsing, the answers, and
// the metrics and log fields of each delivery.
import type { Context } from "hono";
import type { AppEnv, LogFields } from "./app-env";
import { errorAnswer, HttpError } from "./http-error";
import type { Metrics, WebhookResult } from "./metrics";
import type { Forge, WebhookDelivery, WebhookIntake } from "./ports";
import type { Verdict } from "./webhook-events";

export interface WebhookDeps {
  intake: WebhookIntake;
  metrics: Metrics;
  bodyLimit: number;
}

export interface Outcome {
  result: WebhookResult;
  response: Response;
}

export function unauthorized(message: string): HttpError {
  return new HttpError(401, "unauthorized", message);
}

export function requireHeader(c: Context<AppEnv>, name: string): string {
  const value = c.req.header(name);
  if (value === undefined || value.trim() === "") throw new HttpError(400, "missing_header", `missing header ${name}`);
  return value.trim();
}

const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

/** Delivery ids become database keys: bounded, visible ASCII (forges send UUIDs). */
export function deliveryIdFrom(value: string, header: string): string {
  if (!DELIVERY_ID.test(value)) throw new HttpError(400, "invalid_header", `${header}: expected an id of 1 to 200 visible ASCII characters`);
  return value;
}

/** `:repositoryId{[0-9]+}`; an id past what the database can hold names no repository. */
export function repositoryIdOf(c: Context<AppEnv>): number | undefined {
  const param = c.req.param("repositoryId");
  if (param === undefined) return undefined;
  const id = Number(param);
  if (!Number.isSafeInteger(id)) throw new HttpError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
  return id;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A JSON object from the verified bytes; 400 for anything else. */
export function parseJsonObject(bytes: Uint8Array | string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === "string" ? bytes : utf8.decode(bytes));
  } catch {
    throw new HttpError(400, "malformed_json", "the body is not valid UTF-8 JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "malformed_json", "the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Answers a delivery that will not be stored: a ping, or an event that starts nothing. */
export function answerVerdict(c: Context<AppEnv>, verdict: Exclude<Verdict, { kind: "accept" }>): Outcome {
  if (verdict.kind === "pong") return { result: "pong", response: c.json({ message: "pong" }, 200) };
  c.get("log").reason = verdict.reason;
  return { result: "ignored", response: c.json({ ignored: verdict.reason }, 200) };
}

/** Stored (or found already stored) → 202: the forge must not redeliver either way. */
export async function acceptDelivery(c: Context<AppEnv>, intake: WebhookIntake, delivery: WebhookDelivery): Promise<Outcome> {
  const { status } = await intake.accept(delivery);
  return { result: status, response: c.json({ delivery: delivery.deliveryId, status }, 202) };
}

/** The metric label for a failure, from the same mapping app.onError answers with. */
function resultOf(error: unknown): WebhookResult {
  const status = errorAnswer(error).status;
  if (status === 401) return "unauthorized";
  if (status === 413) return "too_large";
  if (status === 503) return "unavailable";
  return status < 500 ? "bad_request" : "error";
}

/** Runs a webhook handler, counting and timing it by result; errors go on to app.onError. */
export async function observed(c: Context<AppEnv>, deps: WebhookDeps, forge: Forge, run: (log: LogFields) => Promise<Outcome>): Promise<Response> {
  const start = performance.now();
  const log = c.get("log");
  log.forge = forge;
  let result: WebhookResult = "error";
  try {
    const outcome = await run(log);
    result = outcome.result;
    return outcome.response;
  } catch (error) {
    result = resultOf(error);
    throw error;
  } finally {
    log.result = result;
    deps.metrics.webhooks.inc({ forge, result });
    deps.metrics.webhookDuration.observe({ forge, result }, (performance.now() - start) / 1000);
  }
}
