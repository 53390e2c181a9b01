// One port's router: a node:http server proxying each request to one serving version. A request
// picks its upstream once, on arrival; a new table replaces the old one atomically and an upstream
// that left the table stays usable until its in-flight requests are done (drain), so changing
// weights never drops a request. Bodies stream both ways; upstream connections are kept alive per
// upstream. Every answer carries `x-gust-version`; figures are recorded per version.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ProviderError } from "../../errors";
import type { TrafficSplit } from "../deploy-provider";
import { clientResponseHeaders, upstreamRequestHeaders } from "./proxy-headers";
import { matchesRoute, PIN_HEADER, SmoothWeightedChoice } from "./traffic-choice";
import type { VersionMetricsRecorder } from "./version-metrics";

export interface UpstreamAddress {
  host: string;
  port: number;
}

interface Upstream {
  version: string;
  address: UpstreamAddress;
  agent: Agent;
  inFlight: number;
}

interface Table {
  split: TrafficSplit;
  stable: Upstream;
  canary?: Upstream;
  choice: SmoothWeightedChoice;
  byVersion: Map<string, Upstream>;
}

export interface LocalRouterOptions {
  host: string;
  port: number;
  metrics: VersionMetricsRecorder;
}

/** Methods retried once when a kept-alive connection turned out to be closed by the version. */
const RETRY_ON_STALE_SOCKET = new Set(["GET", "HEAD", "OPTIONS"]);

export class LocalRouter {
  private table: Table | undefined;
  /** Every upstream in use or still draining, by `version@host:port`. */
  private readonly upstreams = new Map<string, Upstream>();
  private readonly idleWaiters = new Map<string, Array<() => void>>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private closing = false;

  constructor(private readonly options: LocalRouterOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.server.off("listening", onListening);
        reject(listenError(error, host, port));
      };
      const onListening = () => {
        this.server.off("error", onError);
        resolve();
      };
      this.server.once("error", onError);
      this.server.once("listening", onListening);
      this.server.listen({ host, port });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Switches to a new split at once. `addresses` holds every version the split names. */
  setTable(split: TrafficSplit, addresses: ReadonlyMap<string, UpstreamAddress>): void {
    if (split.stable === null) {
      this.table = undefined;
    } else {
      const byVersion = new Map<string, Upstream>();
      const upstreamOf = (version: string): Upstream => {
        const address = addresses.get(version);
        if (!address) throw new Error(`no address for version ${version}`);
        const upstream = this.upstreamFor(version, address);
        byVersion.set(version, upstream);
        return upstream;
      };
      const stable = upstreamOf(split.stable);
      const canary = split.canary ? upstreamOf(split.canary.version) : undefined;
      this.table = { split, stable, ...(canary ? { canary } : {}), choice: new SmoothWeightedChoice(split.canary?.weight ?? 0), byVersion };
    }
    for (const upstream of [...this.upstreams.values()]) this.releaseIfUnused(upstream);
  }

  /** Resolves once no request is in flight to `version` on an upstream that left the table. */
  drained(version: string): Promise<void> {
    const busy = [...this.upstreams.values()].some((upstream) => upstream.version === version && !this.inTable(upstream) && upstream.inFlight > 0);
    if (!busy) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.idleWaiters.get(version) ?? [];
      waiters.push(resolve);
      this.idleWaiters.set(version, waiters);
    });
  }

  /**
   * Stops listening. Requests in flight finish and their connections close after them; whatever is
   * still open after `graceMs` is cut.
   */
  async close(graceMs: number): Promise<void> {
    this.table = undefined;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.destroyConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    for (const upstream of this.upstreams.values()) upstream.agent.destroy();
    this.upstreams.clear();
    for (const waiters of this.idleWaiters.values()) for (const resolve of waiters) resolve();
    this.idleWaiters.clear();
  }

  /** Forcibly ends every client connection (after a drain that took too long). */
  private destroyConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private upstreamFor(version: string, address: UpstreamAddress): Upstream {
    const key = `${version}@${address.host}:${address.port}`;
    let upstream = this.upstreams.get(key);
    if (!upstream) {
      upstream = { version, address, agent: new Agent({ keepAlive: true }), inFlight: 0 };
      this.upstreams.set(key, upstream);
    }
    return upstream;
  }

  private inTable(upstream: Upstream): boolean {
    return this.table?.byVersion.get(upstream.version) === upstream;
  }

  private releaseIfUnused(upstream: Upstream): void {
    if (this.inTable(upstream) || upstream.inFlight > 0) return;
    upstream.agent.destroy();
    this.upstreams.delete(`${upstream.version}@${upstream.address.host}:${upstream.address.port}`);
    if ([...this.upstreams.values()].some((other) => other.version === upstream.version && !this.inTable(other) && other.inFlight > 0)) return;
    const waiters = this.idleWaiters.get(upstream.version);
    this.idleWaiters.delete(upstream.version);
    for (const resolve of waiters ?? []) resolve();
  }

  private pick(table: Table, req: IncomingMessage): Upstream | undefined {
    const pinned = req.headers[PIN_HEADER];
    if (typeof pinned === "string") return table.byVersion.get(pinned.trim());
    if (table.canary && matchesRoute(table.split.route, req.headers)) return table.canary;
    if (table.canary && table.choice.next()) return table.canary;
    return table.stable;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const table = this.table;
    if (!table) return plain(res, 503, "no version is serving on this port\n");
    const upstream = this.pick(table, req);
    if (!upstream) return plain(res, 404, `${PIN_HEADER}: version ${String(req.headers[PIN_HEADER])} is not serving on this port\n`);
    const started = performance.now();
    upstream.inFlight += 1;
    let failed = false;
    let status = 0;
    res.once("close", () => {
      upstream.inFlight -= 1;
      this.options.metrics.record(upstream.version, { latencyMs: performance.now() - started, error: failed || status >= 500 });
      this.releaseIfUnused(upstream);
    });

    const bodiless = req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined;
    const send = (retried: boolean): void => {
      const forwarded = httpRequest({
        host: upstream.address.host,
        port: upstream.address.port,
        method: req.method,
        path: req.url,
        headers: upstreamRequestHeaders(req),
        agent: upstream.agent,
      });
      forwarded.once("response", (answer) => {
        status = answer.statusCode ?? 502;
        if (this.closing) res.shouldKeepAlive = false;
        res.writeHead(status, answer.statusMessage, clientResponseHeaders(answer, upstream.version));
        answer.pipe(res);
        answer.once("close", () => {
          if (answer.complete) return;
          // The version died mid-answer: the client must not take a cut body for a whole one.
          failed = true;
          res.destroy();
        });
      });
      forwarded.once("error", (error: NodeJS.ErrnoException) => {
        if (res.destroyed) return; // the client left; we ended the upstream request ourselves
        if (!retried && bodiless && forwarded.reusedSocket && RETRY_ON_STALE_SOCKET.has(req.method ?? "") && !res.headersSent) {
          send(true);
          return;
        }
        failed = true;
        if (res.headersSent) return void res.destroy();
        res.setHeader(PIN_HEADER, upstream.version);
        plain(res, 502, `version ${upstream.version} did not answer: ${error.code ?? error.message}\n`);
      });
      res.once("close", () => {
        if (!res.writableFinished) forwarded.destroy();
      });
      if (bodiless) forwarded.end();
      else req.pipe(forwarded);
    };
    send(false);
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): ProviderError {
  if (error.code === "EADDRINUSE") {
    return new ProviderError(`port ${port} on ${host} is in use by another program; choose another port for the local release target`, {
      retryable: false,
      fault: "user",
      code: "local_port_in_use",
      cause: error,
    });
  }
  if (error.code === "EACCES") {
    return new ProviderError(`no permission to listen on port ${port} on ${host}; use a port above 1023`, {
      retryable: false,
      fault: "user",
      code: "local_port_denied",
      cause: error,
    });
  }
  return new ProviderError(`cannot listen on ${host}:${port}: ${error.message}`, { retryable: true, code: "local_listen_failed", cause: error });
}
