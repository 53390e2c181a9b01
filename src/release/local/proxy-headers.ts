// Header rewriting for the router: hop-by-hop headers belong to one connection and are not
// forwarded (RFC 9110 §7.6.1), x-forwarded-* tell the version who really asked.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from "node:http";
import { PIN_HEADER } from "./traffic-choice";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    result[name] = value;
  }
  return result;
}

export function upstreamRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const headers = withoutHopByHop(req.headers);
  const client = req.socket.remoteAddress ?? "";
  const previous = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = previous ? `${String(previous)}, ${client}` : client;
  headers["x-forwarded-proto"] = req.headers["x-forwarded-proto"] ?? "http";
  if (req.headers.host !== undefined) headers["x-forwarded-host"] = req.headers["x-forwarded-host"] ?? req.headers.host;
  if (req.socket.localPort !== undefined) headers["x-forwarded-port"] = req.headers["x-forwarded-port"] ?? String(req.socket.localPort);
  return headers;
}

export function clientResponseHeaders(upstream: IncomingMessage, version: string): OutgoingHttpHeaders {
  const headers = withoutHopByHop(upstream.headers);
  headers[PIN_HEADER] = version;
  return headers;
}
