// One analysis measurement's readings: the target's own figures for builtin metrics, a Prometheus
// query for the others. Failures to read become readings without a value (inconclusive).
import type { AnalysisDef } from "../pipeline/model";
import { builtinValue, type MetricReading } from "./analysis-judge";
import type { DeployProvider, VersionMetrics } from "./deploy-provider";
import { queryPrometheus } from "./prometheus-source";

export async function measureVersion(analysis: AnalysisDef, provider: DeployProvider, version: string, from: number, to: number, fetchImpl?: typeof fetch): Promise<MetricReading[]> {
  let figures: Promise<VersionMetrics | undefined | Error> | undefined;
  const builtin = () => (figures ??= provider.metrics(version, { from: new Date(from), to: new Date(to) }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
  return Promise.all(
    analysis.metrics.map(async (metric): Promise<MetricReading> => {
      if (metric.source.kind === "prometheus") {
        const reading = await queryPrometheus({ url: metric.source.url, query: metric.source.query, version, from, to, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
        return { name: metric.name, ...reading };
      }
      const result = await builtin();
      if (result instanceof Error) return { name: metric.name, problem: `the target's figures could not be read: ${result.message}` };
      if (!result) return { name: metric.name, problem: `${provider.target} keeps no figures; use a prometheus query` };
      const value = builtinValue(metric.source.metric, result, to - from);
      return { name: metric.name, requests: result.requests, ...(value !== undefined ? { value } : {}) };
    }),
  );
}
