// An analysis source for any target: an instant query against a Prometheus HTTP API
// (GET /api/v1/query), with {{version}} replaced by the version judged and {{window}} by the
// measurement window as a PromQL duration ("60s"). An empty result, NaN or an unreachable server is
// no data (inconclusive), never a pass.

export interface PrometheusReading {
  value?: number;
  /** Why there is no value. */
  problem?: string;
}

export interface PrometheusQuery {
  url: string;
  query: string;
  version: string;
  from: number;
  to: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The query text sent: placeholders filled, the version quoted safely for a PromQL string. */
export function renderPromQuery(query: string, version: string, windowMs: number): string {
  const seconds = Math.max(1, Math.round(windowMs / 1000));
  // Inside a PromQL double-quoted string only backslash and quote need escaping.
  const quotedVersion = version.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return query.replaceAll("{{version}}", quotedVersion).replaceAll("{{window}}", `${seconds}s`);
}

export async function queryPrometheus(request: PrometheusQuery): Promise<PrometheusReading> {
  const url = new URL("api/v1/query", request.url.endsWith("/") ? request.url : `${request.url}/`);
  url.searchParams.set("query", renderPromQuery(request.query, request.version, request.to - request.from));
  url.searchParams.set("time", (request.to / 1000).toFixed(3));
  const doFetch = request.fetch ?? fetch;
  let body: unknown;
  try {
    const response = await doFetch(url, { signal: AbortSignal.timeout(request.timeoutMs ?? 10_000), headers: { accept: "application/json" } });
    body = await response.json().catch(() => undefined);
    if (!response.ok) return { problem: `prometheus answered ${response.status}${errorText(body)}` };
  } catch (error) {
    return { problem: `prometheus unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
  return readValue(body);
}

/** The single number of an instant query's answer (vector of one sample, or scalar). */
export function readValue(body: unknown): PrometheusReading {
  const data = (body as { status?: string; data?: { resultType?: string; result?: unknown } } | undefined)?.data;
  if ((body as { status?: string } | undefined)?.status !== "success" || !data) return { problem: `unexpected answer${errorText(body)}` };
  let raw: unknown;
  if (data.resultType === "scalar") raw = (data.result as unknown[] | undefined)?.[1];
  else if (data.resultType === "vector") {
    const samples = Array.isArray(data.result) ? data.result : [];
    if (samples.length === 0) return { problem: "no data" };
    if (samples.length > 1) return { problem: `the query returned ${samples.length} series; aggregate it to one (sum, avg, histogram_quantile)` };
    raw = (samples[0] as { value?: unknown[] }).value?.[1];
  } else return { problem: `unsupported result type ${String(data.resultType)}` };
  const value = typeof raw === "string" ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) return { problem: "no data (NaN)" };
  return { value };
}

function errorText(body: unknown): string {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === "string" ? `: ${error}` : "";
}
