// The HTTP app with in-memory stand-ins for its ports, a logger whose lines the tests read, and the
// real GitHub payloads of @octokit/webhooks-examples.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import pino from "pino";
import { createHttpApp, createMetrics, signGithubBody, type Forge, type HttpAppDeps, type Readiness, type WebhookDelivery, type WebhookIntake } from "../../src/http";

export const GITHUB_SECRETS = ["current-github-secret", "previous-github-secret"];
export const GITLAB_SECRETS = ["current-gitlab-token", "previous-gitlab-token"];
export const REPOSITORY_ID = 42;
export const REPOSITORY_SECRETS = { github: ["repo-42-github-secret"], gitlab: ["repo-42-gitlab-token"] };

/** Stores deliveries in a map keyed like the database's unique index: (forge, delivery id). */
export class MemoryIntake implements WebhookIntake {
  readonly stored = new Map<string, WebhookDelivery>();
  readonly calls = { accept: 0, secretsFor: [] as Array<[Forge, number | undefined]> };
  failWith: unknown;

  constructor(
    private readonly global: Record<Forge, string[]> = { github: GITHUB_SECRETS, gitlab: GITLAB_SECRETS },
    private readonly perRepository: Record<number, Record<Forge, string[]>> = { [REPOSITORY_ID]: REPOSITORY_SECRETS },
  ) {}

  async accept(delivery: WebhookDelivery): Promise<{ status: "created" | "duplicate" }> {
    this.calls.accept++;
    if (this.failWith !== undefined) throw this.failWith;
    const key = `${delivery.forge}:${delivery.deliveryId}`;
    if (this.stored.has(key)) return { status: "duplicate" };
    this.stored.set(key, delivery);
    return { status: "created" };
  }

  async secretsFor(forge: Forge, repositoryId?: number): Promise<string[]> {
    this.calls.secretsFor.push([forge, repositoryId]);
    if (repositoryId === undefined) return this.global[forge];
    return this.perRepository[repositoryId]?.[forge] ?? [];
  }
}

export interface Harness {
  app: ReturnType<typeof createHttpApp>;
  intake: MemoryIntake;
  deps: HttpAppDeps;
  /** Every log line written so far, parsed. */
  logs: () => Array<Record<string, unknown>>;
  /** The raw log output, to search for things that must never be logged. */
  logText: () => string;
  setReadiness(state: Readiness | (() => Promise<Readiness>)): void;
}

export function createHarness(options: { bodyLimit?: number; intake?: MemoryIntake; readinessTimeoutMs?: number } = {}): Harness {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: "debug" }, sink);
  const intake = options.intake ?? new MemoryIntake();
  let readiness: () => Promise<Readiness> = async () => ({ ready: true });
  const deps: HttpAppDeps = {
    intake,
    readiness: { check: () => readiness() },
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    ...(options.bodyLimit === undefined ? {} : { webhookBodyLimit: options.bodyLimit }),
    ...(options.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: options.readinessTimeoutMs }),
  };
  return {
    app: createHttpApp(deps),
    intake,
    deps,
    logs: () => raw.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
    logText: () => raw.join(""),
    setReadiness(state) {
      readiness = typeof state === "function" ? state : async () => state;
    },
  };
}

type Payload = Record<string, unknown>;
const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples") as Array<{ name: string; examples: Payload[] }>;

/** A real payload GitHub sent for `event` (and `action`, for events that have them). */
export function githubExample(event: string, action?: string): Payload {
  const examples = definitions.find((definition) => definition.name === event)?.examples ?? [];
  const example = examples.find((candidate) => action === undefined || candidate["action"] === action);
  if (!example) throw new Error(`no @octokit/webhooks-examples payload for ${event}${action ? `.${action}` : ""}`);
  return example;
}

export function gitlabFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/gitlab/${name}.json`, import.meta.url), "utf8");
}

let deliveries = 0;
export const newDeliveryId = () => `72d3162e-cc78-11e3-81ab-${String(++deliveries).padStart(12, "0")}`;

export interface GithubRequest {
  event?: string | undefined;
  delivery?: string | undefined;
  body: string | Payload;
  secret?: string;
  /** Overrides the computed signature; `null` leaves the header out. */
  signature?: string | null;
  path?: string;
  headers?: Record<string, string>;
}

/** A delivery as GitHub sends it: JSON body, HMAC-SHA256 signature, event and delivery headers. */
export function githubRequest(request: GithubRequest): Request {
  const body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "GitHub-Hookshot/044aadd",
    ...request.headers,
  };
  if (request.event !== undefined) headers["X-GitHub-Event"] = request.event;
  if (request.delivery !== undefined) headers["X-GitHub-Delivery"] = request.delivery;
  const signature = request.signature === undefined ? signGithubBody(body, request.secret ?? GITHUB_SECRETS[0]!) : request.signature;
  if (signature !== null) headers["X-Hub-Signature-256"] = signature;
  return new Request(`http://gust.test${request.path ?? "/hooks/github"}`, { method: "POST", headers, body });
}

export interface GitlabRequest {
  event?: string | undefined;
  body: string;
  token?: string | null;
  idempotencyKey?: string | undefined;
  eventUuid?: string | undefined;
  path?: string;
}

/** A delivery as GitLab sends it: the secret token in a header, no signature. */
export function gitlabRequest(request: GitlabRequest): Request {
  const headers: Record<string, string> = { "Content-Type": "application/json", "User-Agent": "GitLab/17.5.0" };
  const token = request.token === undefined ? GITLAB_SECRETS[0]! : request.token;
  if (token !== null) headers["X-Gitlab-Token"] = token;
  if (request.event !== undefined) headers["X-Gitlab-Event"] = request.event;
  if (request.idempotencyKey !== undefined) headers["Idempotency-Key"] = request.idempotencyKey;
  if (request.eventUuid !== undefined) headers["X-Gitlab-Event-UUID"] = request.eventUuid;
  headers["X-Gitlab-Instance"] = "https://gitlab.example.com";
  return new Request(`http://gust.test${request.path ?? "/hooks/gitlab"}`, { method: "POST", headers, body: request.body });
}

/**
 * A body that produces `chunk`-sized pieces without end and counts what was pulled from it, to show
 * the server stops reading at the limit rather than buffering the whole upload.
 */
export function endlessBody(chunk = 16 * 1024): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const piece = new Uint8Array(chunk).fill(0x20);
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += piece.byteLength;
        controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled };
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}
