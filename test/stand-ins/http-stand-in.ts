// The loopback HTTP server under the forge API stand-ins: records every request for assertions and
// lets a test script failures for the next calls (502, 403, 429 with Retry-After, a reset socket).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path as sent, still percent-encoded: `/api/v4/projects/group%2Fproject/...`. */
  rawPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body was JSON, else the text (undefined when empty). */
  body: unknown;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects and arrays are sent as JSON; strings as text/plain. */
  body?: unknown;
}

export interface ScriptedFailure {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Close the connection without an answer (a network error for the client). */
  reset?: boolean;
  /** Never answer (the client's timeout fires); the socket is closed when the stand-in closes. */
  hang?: boolean;
  /** Only requests this matches fail (and count); others pass. */
  match?: (request: RecordedRequest) => boolean;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export class HttpStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: Array<{ remaining: number; failure: ScriptedFailure }> = [];

  private constructor(
    private readonly server: Server,
    /** http://127.0.0.1:PORT */
    readonly origin: string,
  ) {}

  static async start(handler: Handler): Promise<HttpStandIn> {
    let standIn: HttpStandIn | undefined;
    const server = createServer((req, res) => {
      void standIn!.serve(req, res, handler);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    standIn = new HttpStandIn(server, `http://127.0.0.1:${port}`);
    return standIn;
  }

  /** The next `count` matching requests get this failure instead of their answer. */
  failNext(count: number, failure: ScriptedFailure): void {
    this.failures.push({ remaining: count, failure });
  }

  /** Requests whose method and raw path match. */
  find(method: string, pathPattern: RegExp): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method && pathPattern.test(request.rawPath));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse, handler: Handler): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.origin);
    const request: RecordedRequest = {
      method: req.method ?? "GET",
      rawPath: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: parseBody(text, req.headers["content-type"]),
    };
    this.requests.push(request);

    const scripted = this.failures.find((entry) => entry.remaining > 0 && (!entry.failure.match || entry.failure.match(request)));
    if (scripted) {
      scripted.remaining -= 1;
      if (scripted.failure.reset) {
        req.socket.destroy();
        return;
      }
      if (scripted.failure.hang) return;
      send(res, { status: scripted.failure.status ?? 502, headers: scripted.failure.headers ?? {}, body: scripted.failure.body ?? { message: "Server Error" } });
      return;
    }
    try {
      send(res, await handler(request));
    } catch (error) {
      send(res, { status: 500, body: { message: `stand-in bug: ${(error as Error).stack ?? String(error)}` } });
    }
  }
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === "") return undefined;
  if (contentType?.includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = "";
  if (reply.body !== undefined) {
    if (typeof reply.body === "string") {
      payload = reply.body;
      headers["content-type"] ??= "text/plain; charset=utf-8";
    } else {
      payload = JSON.stringify(reply.body);
      headers["content-type"] ??= "application/json; charset=utf-8";
    }
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** Authorization: `token X`, `Bearer X`, `bearer X` → X (case-insensitive scheme, as the forges accept). */
export function bearer(headers: IncomingHttpHeaders): { scheme: string; credential: string } | undefined {
  const value = headers.authorization;
  if (typeof value !== "string") return undefined;
  const match = /^(\S+)\s+(.+)$/.exec(value.trim());
  return match ? { scheme: match[1]!.toLowerCase(), credential: match[2]! } : undefined;
}
