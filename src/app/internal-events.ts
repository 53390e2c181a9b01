// Deliveries Gust makes itself: a manual trigger and a schedule tick are stored as deliveries of
// forge `gust` (events `manual`, `schedule`), so they get the durability and the dedupe of
// webhooks. This is their payload, how it is built, and how it becomes a RunEvent. Pure.
import type { NormalizedEvent, PipelineSelection, RunEvent } from "../forges/forge";
import type { Scalar } from "../pipeline";

export const INTERNAL_FORGE = "gust";

export type InternalEventName = "manual" | "schedule";

export interface InternalPayload {
  repositoryId: number;
  /** Full ref, or the sha for a commit named by its sha. */
  ref: string;
  sha: string;
  branch?: string;
  tag?: string;
  /** Manual inputs as given; the planner checks them against each file's declaration. */
  inputs?: Record<string, Scalar>;
  /** Only the pipeline with this name or file. */
  pipeline?: string;
  /** Who asked: a token's name, `schedule`. */
  actor?: string;
  /** `<file>#<index>`: the cron entry a tick belongs to. */
  scheduleEntry?: string;
}

/** `.gust/nightly.yml#0`: how a cron entry is named in ticks and payloads. */
export function scheduleEntryKey(file: string, index: number): string {
  return `${file}#${index}`;
}

export function parseScheduleEntryKey(key: string): { file: string; index: number } | undefined {
  const hash = key.lastIndexOf("#");
  const index = Number(key.slice(hash + 1));
  if (hash <= 0 || !/^\d+$/.test(key.slice(hash + 1)) || !Number.isSafeInteger(index)) return undefined;
  return { file: key.slice(0, hash), index };
}

/**
 * The delivery id of a tick: replicas firing the same tick of the same entry make the same id,
 * so the unique (forge, delivery id) key keeps one delivery.
 */
export function scheduleDeliveryId(repositoryId: number, entryKey: string, tickAt: Date): string {
  return `schedule:${repositoryId}:${entryKey}:${tickAt.toISOString()}`;
}

/**
 * A stored `gust` delivery → what runs. Malformed payloads are ignored with the reason rather
 * than thrown: a stored delivery that can never be processed must not be retried forever.
 */
export function normalizeInternalEvent(event: string, payload: unknown): NormalizedEvent {
  if (event !== "manual" && event !== "schedule") return { kind: "ignored", reason: `unknown internal event '${event}'` };
  const problem = payloadProblem(payload);
  if (problem) return { kind: "ignored", reason: `malformed ${event} delivery: ${problem}` };
  const body = payload as InternalPayload;

  let selection: PipelineSelection | undefined;
  if (event === "schedule") {
    const entry = body.scheduleEntry === undefined ? undefined : parseScheduleEntryKey(body.scheduleEntry);
    if (!entry) return { kind: "ignored", reason: "malformed schedule delivery: scheduleEntry: expected <file>#<index>" };
    selection = { scheduleEntry: entry };
  } else if (body.pipeline !== undefined) {
    selection = { pipeline: body.pipeline };
  }
  const run: RunEvent = {
    kind: "run",
    // Internal deliveries always carry their repository id; the name is only for messages.
    repo: { fullName: `repository ${body.repositoryId}`, cloneUrl: "", defaultBranch: body.branch ?? "" },
    context: {
      event,
      ref: body.ref,
      sha: body.sha,
      ...(body.branch !== undefined ? { branch: body.branch } : {}),
      ...(body.tag !== undefined ? { tag: body.tag } : {}),
      ...(event === "manual" && body.inputs ? { inputs: body.inputs } : {}),
    },
    fromFork: false,
    deliveryKind: event,
    ...(selection ? { selection } : {}),
  };
  return run;
}

function payloadProblem(payload: unknown): string | undefined {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return "expected an object";
  const body = payload as Record<string, unknown>;
  if (!Number.isSafeInteger(body.repositoryId)) return "repositoryId: expected a whole number";
  for (const field of ["ref", "sha"] as const) {
    if (typeof body[field] !== "string" || body[field] === "") return `${field}: expected a non-empty string`;
  }
  for (const field of ["branch", "tag", "pipeline", "actor", "scheduleEntry"] as const) {
    if (body[field] !== undefined && typeof body[field] !== "string") return `${field}: expected a string`;
  }
  if (body.inputs !== undefined) {
    if (body.inputs === null || typeof body.inputs !== "object" || Array.isArray(body.inputs)) return "inputs: expected an object";
    for (const [name, value] of Object.entries(body.inputs)) {
      if (!["string", "number", "boolean"].includes(typeof value)) return `inputs.${name}: expected a string, number or boolean`;
    }
  }
  return undefined;
}
