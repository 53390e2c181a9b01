// The HTTP side of the Kubernetes API stand-in: routes core/v1 paths to the REST handlers, watches
// and logs; checks the bearer token on every request (401 Status otherwise); counts requests by verb
// and resource; plays scripted failures (429 with Retry-After, 5xx) before answering.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createObject, deleteCollection, deleteObject, getObject, listObjects, patchObject, replaceObject, selectors, type Resource, type WriteContext } from "./kubernetes-handlers";
import { parseLogQuery, type LogBook } from "./kubernetes-logs";
import { findContainerStatus } from "./kubernetes-pod-status";
import { ApiError, badRequest, methodNotAllowed, serverError, tooManyRequests, unauthorized, type StatusBody } from "./kubernetes-status";
import type { KubeObject, Pod } from "./kubernetes-types";
import type { WatchHub } from "./kubernetes-watch";

export interface ScriptedFault {
  /** 429 answers carry Retry-After; 500, 503 and 504 are server errors. */
  status: 429 | 500 | 503 | 504;
  retryAfterSeconds?: number;
  /** Only requests with this verb ("create", "list", "watch", "get", "patch", "delete" …) fail. */
  verb?: string;
  /** Only requests for this resource ("pods", "pods/log", "secrets", "events") fail. */
  resource?: string;
}

interface Route {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
}

export interface ServerState {
  token: string;
  resources: Map<string, Resource<KubeObject>>;
  namespaces: Set<string>;
  watches: WatchHub;
  logs: LogBook;
  strictFields: boolean;
  currentVersion(): number;
  now(): number;
}

const SERVER_VERSION = { major: "1", minor: "31", gitVersion: "v1.31.0-gust-stand-in", platform: "linux/amd64" };

export class KubernetesServer {
  private readonly counts = new Map<string, number>();
  private readonly faults: Array<ScriptedFault & { remaining: number }> = [];
  readonly warnings: string[] = [];

  constructor(private readonly state: ServerState) {}

  requests(): Map<string, number> {
    return new Map(this.counts);
  }

  resetRequests(): void {
    this.counts.clear();
  }

  failNext(count: number, fault: ScriptedFault): void {
    this.faults.push({ ...fault, remaining: count });
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? "/", "http://stand-in");
      const method = request.method ?? "GET";
      const body = ["POST", "PUT", "PATCH", "DELETE"].includes(method) ? await readBody(request) : undefined;
      const route = parseRoute(method, url.pathname, url.searchParams);
      const key = route ? `${route.verb} ${route.resource}` : `${method.toLowerCase()} ${url.pathname}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      if (request.headers.authorization !== `Bearer ${this.state.token}`) throw unauthorized();
      this.playFault(route);
      if (url.pathname === "/version") return sendJson(response, 200, SERVER_VERSION);
      if (!route) throw notFoundPath();
      this.serve(route, url.searchParams, body, request.headers["content-type"] ?? "application/json", response);
    } catch (caught) {
      // A stand-in bug answers 500 with its stack, so the test that hit it shows where.
      const error = caught instanceof ApiError ? caught : serverError(500, undefined, `stand-in bug: ${(caught as Error).stack ?? String(caught)}`);
      if (response.headersSent) {
        response.end();
        return;
      }
      sendJson(response, error.code, error.body, error.headers);
    }
  }

  private playFault(route: Route | undefined): void {
    const fault = this.faults.find((entry) => entry.remaining > 0 && (!entry.verb || entry.verb === route?.verb) && (!entry.resource || entry.resource === route?.resource));
    if (!fault) return;
    fault.remaining -= 1;
    throw fault.status === 429 ? tooManyRequests(fault.retryAfterSeconds ?? 1) : serverError(fault.status, fault.retryAfterSeconds);
  }

  private serve(route: Route, query: URLSearchParams, body: unknown, contentType: string, response: ServerResponse): void {
    const { namespace, name } = route;
    if (route.resource === "namespaces") {
      if (route.verb === "get" && name) {
        if (!this.state.namespaces.has(name)) throw notFoundPath(`namespaces "${name}" not found`, 404, name);
        return sendJson(response, 200, namespaceObject(name));
      }
      if (route.verb === "list") return sendJson(response, 200, { kind: "NamespaceList", apiVersion: "v1", metadata: { resourceVersion: String(this.state.currentVersion()) }, items: [...this.state.namespaces].map(namespaceObject) });
      throw methodNotAllowed();
    }
    if (route.resource === "pods/log") return this.serveLog(namespace!, name!, query, response);
    const resource = this.state.resources.get(route.resource);
    if (!resource) throw notFoundPath();
    const context: WriteContext = {
      query,
      strictFields: this.state.strictFields,
      namespaceExists: (space) => this.state.namespaces.has(space),
      now: this.state.now,
    };
    switch (route.verb) {
      case "get":
        return sendJson(response, 200, getObject(resource, namespace!, name!));
      case "list":
        return send(response, listObjects(resource, namespace, query, this.state.currentVersion()));
      case "watch":
        return this.state.watches.serve(resource.store, namespace, query, selectors(resource, query), response);
      case "create":
        return this.written(response, createObject(resource, namespace!, body, context));
      case "update":
        return this.written(response, replaceObject(resource, namespace!, name!, body, context));
      case "patch":
        return this.written(response, patchObject(resource, namespace!, name!, body, contentType, context));
      case "delete":
        return send(response, deleteObject(resource, namespace!, name!, body, query));
      case "deletecollection":
        if (!namespace) throw methodNotAllowed();
        return send(response, deleteCollection(resource, namespace!, body, query, this.state.currentVersion));
      default:
        throw methodNotAllowed();
    }
  }

  private written(response: ServerResponse, answer: { status: number; body: unknown; warnings?: string[] }): void {
    this.warnings.push(...(answer.warnings ?? []));
    send(response, answer);
  }

  private serveLog(namespace: string, name: string, query: URLSearchParams, response: ServerResponse): void {
    const pod = getObject(this.state.resources.get("pods")!, namespace, name) as Pod;
    const names = pod.spec.containers.map((container) => container.name);
    const initNames = (pod.spec.initContainers ?? []).map((container) => container.name);
    let container = query.get("container") ?? "";
    if (container === "") {
      if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]${initNames.length > 0 ? ` or one of the init containers: [${initNames.join(" ")}]` : ""}`);
      container = names[0]!;
    }
    if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    if (!pod.spec.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    const status = findContainerStatus(pod.status, container);
    const waiting = status?.state.waiting;
    if (!status || waiting) {
      const reason = !waiting ? "ContainerCreating" : ["ErrImagePull", "ImagePullBackOff"].includes(waiting.reason) ? "trying and failing to pull image" : waiting.reason;
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
    }
    this.state.logs.serve(`${namespace}/${name}/${container}`, parseLogQuery(query, this.state.now()), status.state.running !== undefined, response);
  }
}

function parseRoute(method: string, pathname: string, query: URLSearchParams): Route | undefined {
  const parts = pathname.split("/").filter((part) => part !== "").map(decodeURIComponent);
  if (parts[0] !== "api" || parts[1] !== "v1") return undefined;
  const watch = ["true", "1"].includes(query.get("watch") ?? "");
  const collectionVerb: Record<string, string> = { GET: watch ? "watch" : "list", POST: "create", DELETE: "deletecollection" };
  const itemVerb: Record<string, string> = { GET: "get", PUT: "update", PATCH: "patch", DELETE: "delete" };
  const rest = parts.slice(2);
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const [, namespace, resource, name, subresource] = rest as [string, string, string, string | undefined, string | undefined];
    if (rest.length > 5) return undefined;
    if (subresource !== undefined) return subresource === "log" && resource === "pods" && method === "GET" ? { verb: "get", resource: "pods/log", namespace, name } : undefined;
    const verb = name === undefined ? collectionVerb[method] : itemVerb[method];
    return verb ? { verb, resource, namespace, name } : undefined;
  }
  if (rest.length === 1 || (rest[0] === "namespaces" && rest.length === 2)) {
    const verb = rest.length === 2 ? itemVerb[method] : collectionVerb[method];
    return verb ? { verb, resource: rest[0]!, name: rest[1] } : undefined;
  }
  return undefined;
}

function namespaceObject(name: string): object {
  return { kind: "Namespace", apiVersion: "v1", metadata: { name, labels: { "kubernetes.io/metadata.name": name } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } };
}

function notFoundPath(message = "the server could not find the requested resource", code = 404, name?: string): ApiError {
  const body: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "NotFound", details: name ? { name, kind: "namespaces" } : {}, code };
  return new ApiError(body);
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

function send(response: ServerResponse, answer: { status: number; body: unknown; warnings?: string[] }): void {
  const headers: Record<string, string | string[]> = {};
  if (answer.warnings && answer.warnings.length > 0) headers.warning = answer.warnings.map((text) => `299 - ${JSON.stringify(text)}`);
  sendJson(response, answer.status, answer.body, headers);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "audit-id": randomUUID(), ...headers });
  response.end(payload);
}
