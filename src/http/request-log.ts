// One structured line per request, written when the answer is known. Only the method, the path
// (never the query, which may carry tokens), the status, the time and fields the route chose
// (forge, event, delivery id, result): never headers or bodies, which carry secrets.
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { AppEnv, LogFields } from "./app-env";

// Probes and scrapes arrive every few seconds; at info they would drown the lines that matter.
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    const fields: LogFields = {};
    c.set("log", fields);
    await next();
    const status = c.res.status;
    const line = {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - start) * 100) / 100,
      ...fields,
    };
    if (status >= 500) logger.error(line, "request");
    else if (QUIET_PATHS.has(c.req.path) && status < 400) logger.debug(line, "request");
    else logger.info(line, "request");
  };
}
