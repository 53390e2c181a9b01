// Serves the git repositories under a directory over smart HTTP, the way a forge does: each
// request runs `git http-backend` as a CGI program. Optional HTTP basic auth, optional protocol v2
// (off: a strict v0 server that refuses to hand out a commit that no ref points at), and a record
// of the requests so tests can check what a client sent. Listens on the host and port given, so
// pods of a test cluster can clone from the host.
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitHttpServerOptions {
  /** Directory holding the repositories: `<url>/<name>` serves `<root>/<name>` (bare or a work tree). */
  root: string;
  host?: string;
  port?: number;
  /** Required credentials; requests without them get 401. */
  auth?: { username: string; password: string };
  /** Pass the client's Git-Protocol header on (default true); false: protocol v0 only. */
  protocolV2?: boolean;
  /** Extra git config for the server side, e.g. uploadpack.allowAnySHA1InWant. */
  gitConfig?: Record<string, string>;
}

export interface GitHttpRequest {
  method: string;
  path: string;
  /** Whether the request carried the configured credentials. */
  authorized: boolean;
}

export interface GitHttpServer {
  /** e.g. http://127.0.0.1:43210 */
  url: string;
  requests: GitHttpRequest[];
  close(): Promise<void>;
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const requests: GitHttpRequest[] = [];
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString("base64")}` : undefined;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://git.test");
    const authorized = expected === undefined || request.headers.authorization === expected;
    requests.push({ method: request.method ?? "GET", path: url.pathname, authorized });
    if (!authorized) {
      response.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain" });
      response.end("authentication required\n");
      request.resume();
      return;
    }
    runBackend(options, url, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function runBackend(options: GitHttpServerOptions, url: URL, request: IncomingMessage, response: ServerResponse): void {
  const config: [string, string][] = [["safe.directory", "*"], ["http.receivepack", "false"], ...Object.entries(options.gitConfig ?? {})];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_PROJECT_ROOT: options.root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: request.method ?? "GET",
    REMOTE_ADDR: request.socket.remoteAddress ?? "",
    CONTENT_TYPE: request.headers["content-type"] ?? "",
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(config.flatMap(([key, value], index) => [[`GIT_CONFIG_KEY_${index}`, key], [`GIT_CONFIG_VALUE_${index}`, value]])),
  };
  if (request.headers["content-length"]) env.CONTENT_LENGTH = request.headers["content-length"];
  const encoding = request.headers["content-encoding"];
  if (encoding) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = request.headers["git-protocol"];
  if (protocol && options.protocolV2 !== false) env.GIT_PROTOCOL = String(protocol);

  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  request.pipe(child.stdin);
  child.stdin.on("error", () => undefined); // the backend may exit without reading everything
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));

  // CGI output: header lines, a blank line, the body.
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersSent) {
      response.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const text = head.toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    if (end === -1) return;
    const separator = /\r?\n\r?\n/.exec(text.slice(end))![0];
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of text.slice(0, end).split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    response.writeHead(status, headers);
    headersSent = true;
    const body = head.subarray(end + separator.length);
    if (body.length > 0) response.write(body);
  });
  child.on("close", (code) => {
    if (!headersSent) {
      response.writeHead(500, { "Content-Type": "text/plain" });
      response.end(`git http-backend failed (exit ${code}): ${stderr}`);
      return;
    }
    response.end();
  });
}
