// The HTTP app with the REST API mounted on real stores (PGlite or PostgreSQL, see
// test/helpers/database.ts), wired by main/api-wiring.ts as `gust serve` wires it, with tokens of
// each scope and a fake trigger whose answer a test sets.
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import pino from "pino";
import { createHttpApp, createMetrics } from "../../src/http";
import type { TriggerRequest, TriggerResult } from "../../src/http/api";
import { DatabaseLogStore } from "../../src/logs/database-log-store";
import { LogHub } from "../../src/logs/log-hub";
import { apiDeps } from "../../src/main/api-wiring";
import { ApiTokensStore, JobQueue, PipelinesStore, RepositoriesStore, type Database } from "../../src/store";
import { sealer } from "../store/fixtures";
import { MemoryIntake } from "./harness";

export interface ApiHarness {
  app: ReturnType<typeof createHttpApp>;
  database: Database;
  repositories: RepositoriesStore;
  pipelines: PipelinesStore;
  queue: JobQueue;
  tokens: ApiTokensStore;
  hub: LogHub;
  /** A token with exactly this scope. */
  token: Record<"read" | "write" | "admin", string>;
  /** What the fake trigger was called with, and what it answers next. */
  trigger: { calls: Array<{ repositoryId: number; request: TriggerRequest }>; answer: TriggerResult | Error };
  /** A request to the app (no socket); `token: null` sends no Authorization header. */
  call(method: string, path: string, options?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Serves the app on a loopback port (for SSE); stopped by close(). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createApiHarness(database: Database, options: { heartbeatMs?: number; now?: () => Date } = {}): Promise<ApiHarness> {
  const repositories = new RepositoriesStore(database, sealer);
  const pipelines = new PipelinesStore(database);
  const queue = new JobQueue(database);
  const tokens = new ApiTokensStore(database);
  const hub = new LogHub({ store: new DatabaseLogStore(database.db) });
  const trigger: ApiHarness["trigger"] = { calls: [], answer: new Error("no trigger answer set") };
  const api = apiDeps({
    database,
    repositories,
    pipelines,
    queue,
    hub,
    trigger: async (repositoryId, request) => {
      trigger.calls.push({ repositoryId, request });
      if (trigger.answer instanceof Error) throw trigger.answer;
      return trigger.answer;
    },
  });
  if (options.heartbeatMs !== undefined) api.logs.heartbeatMs = options.heartbeatMs;
  if (options.now) api.now = options.now;
  const app = createHttpApp({
    intake: new MemoryIntake(),
    readiness: { check: async () => ({ ready: true }) },
    metrics: createMetrics({ defaultMetrics: false }),
    logger: pino({ level: "silent" }),
    api,
  });
  const token = {
    read: (await tokens.createToken({ name: "reader", scopes: ["read"] })).token,
    write: (await tokens.createToken({ name: "writer", scopes: ["write"] })).token,
    admin: (await tokens.createToken({ name: "admin", scopes: ["admin"] })).token,
  };
  let server: ServerType | undefined;

  return {
    app,
    database,
    repositories,
    pipelines,
    queue,
    tokens,
    hub,
    token,
    trigger,
    call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      const bearer = callOptions.token === undefined ? token.admin : callOptions.token;
      if (bearer !== null) headers["Authorization"] = `Bearer ${bearer}`;
      let body: string | undefined;
      if (callOptions.body !== undefined) {
        body = typeof callOptions.body === "string" ? callOptions.body : JSON.stringify(callOptions.body);
        headers["Content-Type"] ??= "application/json";
      }
      return Promise.resolve(app.request(`http://gust.test${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }));
    },
    async listen() {
      await new Promise<void>((resolve) => {
        server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
      });
      return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    },
    async close() {
      await hub.close();
      if (server) await new Promise((resolve) => server!.close(resolve));
    },
  };
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** The error body every refusal has. */
export async function errorOf(response: Response): Promise<{ code: string; message: string; field?: string }> {
  return ((await response.json()) as { error: { code: string; message: string; field?: string } }).error;
}
