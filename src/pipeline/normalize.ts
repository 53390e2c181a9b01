// Validated document → canonical model: shorthands expanded, durations in milliseconds.
import { parseDuration } from "./duration";
import {
  DEFAULT_ARTIFACT_EXPIRY_MS,
  DEFAULT_JOB_TIMEOUT_MS,
  DEFAULT_PROGRESS_DEADLINE_MS,
  type AnalysisDef,
  type CanaryStep,
  type ConcurrencyDef,
  type JobDef,
  type MetricDef,
  type Pipeline,
  type RefFilter,
  type ReleaseDef,
  type ReleaseTarget,
  type Triggers,
} from "./model";
import type { JobDocument, PipelineDocument, ReleaseDocument } from "./schema/pipeline";

type TriggersDocument = NonNullable<PipelineDocument["on"]>;
type Globs = string | string[];

export function normalizePipeline(doc: PipelineDocument, file: string, fallbackName: string): Pipeline {
  const jobs = Object.entries(doc.jobs).map(([id, job]) => normalizeJob(id, job));
  return {
    file,
    name: doc.name ?? fallbackName,
    triggers: normalizeTriggers(doc.on),
    env: envStrings(doc.env),
    ...(doc.concurrency !== undefined ? { concurrency: normalizeConcurrency(doc.concurrency) } : {}),
    jobs,
    ...(doc.release ? { release: normalizeRelease(doc.release, jobs) } : {}),
  };
}

function list(value: Globs | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

function ms(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text);
}

export function envStrings(env: Record<string, string | number | boolean> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) out[key] = String(value);
  return out;
}

function refFilter(include: Globs | undefined, exclude: Globs | undefined): RefFilter {
  const filter: RefFilter = {};
  const inc = list(include);
  const exc = list(exclude);
  if (inc) filter.include = inc;
  if (exc) filter.exclude = exc;
  return filter;
}

function pathFilter(trigger: { paths?: Globs; "paths-ignore"?: Globs }) {
  const paths = list(trigger.paths);
  const pathsIgnore = list(trigger["paths-ignore"]);
  return { ...(paths ? { paths } : {}), ...(pathsIgnore ? { pathsIgnore } : {}) };
}

const ALL_REVIEW_TYPES = ["opened", "synchronize", "reopened"] as const;

function normalizeTriggers(on: TriggersDocument | undefined): Triggers {
  const map =
    on === undefined
      ? { push: null, pull_request: null, merge_request: null, manual: null }
      : typeof on === "string"
        ? { [on]: null }
        : Array.isArray(on)
          ? Object.fromEntries(on.map((name) => [name, null]))
          : on;
  const triggers: Triggers = { schedule: [] };
  if ("push" in map) {
    const push = map.push ?? {};
    const hasBranches = push.branches !== undefined || push["branches-ignore"] !== undefined;
    const hasTags = push.tags !== undefined || push["tags-ignore"] !== undefined;
    triggers.push = {
      branches: refFilter(push.branches, push["branches-ignore"]),
      tags: refFilter(push.tags, push["tags-ignore"]),
      onBranches: hasBranches || !hasTags,
      onTags: hasTags || !hasBranches,
      ...pathFilter(push),
    };
  }
  for (const [key, field] of [["pull_request", "pullRequest"], ["merge_request", "mergeRequest"]] as const) {
    if (!(key in map)) continue;
    const review = (map as Record<string, TriggerReview | null | undefined>)[key] ?? {};
    triggers[field] = {
      branches: refFilter(review.branches, review["branches-ignore"]),
      types: review.types ?? [...ALL_REVIEW_TYPES],
      ...pathFilter(review),
    };
  }
  if ("tag" in map) {
    const tag = map.tag;
    triggers.tag = tag === null || tag === undefined ? {} : typeof tag === "string" || Array.isArray(tag) ? refFilter(tag, undefined) : refFilter(tag.tags, tag["tags-ignore"]);
  }
  if ("manual" in map) {
    const inputs = map.manual?.inputs ?? {};
    triggers.manual = {
      inputs: Object.fromEntries(
        Object.entries(inputs).map(([name, input]) => [
          name,
          {
            type: input.type,
            required: input.required ?? false,
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.default !== undefined ? { default: input.default } : {}),
            ...(input.options !== undefined ? { options: input.options } : {}),
          },
        ]),
      ),
    };
  }
  if ("schedule" in map && map.schedule) {
    triggers.schedule = map.schedule.map((entry) => ({
      cron: entry.cron,
      timezone: entry.timezone ?? "UTC",
      ...(entry.branch !== undefined ? { branch: entry.branch } : {}),
    }));
  }
  return triggers;
}

type TriggerReview = { branches?: Globs; "branches-ignore"?: Globs; paths?: Globs; "paths-ignore"?: Globs; types?: Array<"opened" | "synchronize" | "reopened"> };

export function normalizeConcurrency(value: string | { group: string; "cancel-in-progress"?: boolean | undefined }): ConcurrencyDef {
  return typeof value === "string" ? { group: value, cancelInProgress: false } : { group: value.group, cancelInProgress: value["cancel-in-progress"] ?? false };
}

function normalizeJob(id: string, job: JobDocument): JobDef {
  const { include, exclude, "max-parallel": maxParallel, "fail-fast": failFast, ...axes } = job.matrix ?? {};
  const retry = job.retry === undefined ? { count: 0 } : typeof job.retry === "number" ? { count: job.retry } : { count: job.retry.count, ...(job.retry["exit-codes"] ? { exitCodes: job.retry["exit-codes"] } : {}) };
  const artifacts = job.artifacts === undefined ? undefined : typeof job.artifacts === "string" || Array.isArray(job.artifacts) ? { paths: list(job.artifacts)!, expireInMs: DEFAULT_ARTIFACT_EXPIRY_MS } : { paths: list(job.artifacts.paths)!, expireInMs: ms(job.artifacts["expire-in"]) ?? DEFAULT_ARTIFACT_EXPIRY_MS };
  return {
    id,
    ...(job.name !== undefined ? { name: job.name } : {}),
    ...(job.image !== undefined ? { image: job.image } : {}),
    needs: [...new Set(list(job.needs) ?? [])],
    ...(job.if !== undefined ? { if: job.if } : {}),
    env: envStrings(job.env),
    secrets: job.secrets ?? [],
    ...(job.matrix
      ? {
          matrix: {
            axes: axes as Record<string, Array<string | number | boolean>>,
            include: include ?? [],
            exclude: exclude ?? [],
            ...(maxParallel !== undefined ? { maxParallel } : {}),
            failFast: failFast ?? false,
          },
        }
      : {}),
    timeoutMs: ms(job.timeout) ?? DEFAULT_JOB_TIMEOUT_MS,
    retry,
    ...(job.resources
      ? {
          resources: {
            ...(job.resources.cpu !== undefined ? { cpu: String(job.resources.cpu) } : {}),
            ...(job.resources.memory !== undefined ? { memory: job.resources.memory } : {}),
          },
        }
      : {}),
    services: Object.entries(job.services ?? {}).map(([name, service]) => ({
      name,
      image: service.image,
      env: envStrings(service.env),
      ports: service.ports ?? [],
      ...(service.command ? { command: service.command } : {}),
    })),
    ...(artifacts ? { artifacts } : {}),
    ...(job.cache ? { cache: { key: job.cache.key, paths: list(job.cache.paths)!, restoreKeys: job.cache["restore-keys"] ?? [] } } : {}),
    ...(job.concurrency !== undefined ? { concurrency: normalizeConcurrency(job.concurrency) } : {}),
    steps: job.steps.map((step) => ({
      ...(step.name !== undefined ? { name: step.name } : {}),
      run: step.run,
      env: envStrings(step.env),
      ...(step.if !== undefined ? { if: step.if } : {}),
      ...(step.timeout !== undefined ? { timeoutMs: ms(step.timeout)! } : {}),
      continueOnError: step["continue-on-error"] ?? false,
      ...(step["working-directory"] !== undefined ? { workingDirectory: step["working-directory"] } : {}),
      ...(step.image !== undefined ? { image: step.image } : {}),
    })),
  };
}

/** Thresholds: `1%` → 0.01, `500ms` → 500, `2s` → 2000, numbers as written. */
export function parseThreshold(value: number | string | undefined): number | undefined {
  if (value === undefined || typeof value === "number") return value;
  if (value.endsWith("%")) return Number(value.slice(0, -1)) / 100;
  if (value.endsWith("ms")) return Number(value.slice(0, -2));
  if (value.endsWith("s")) return Number(value.slice(0, -1)) * 1000;
  return Number(value);
}

function normalizeRelease(release: ReleaseDocument, jobs: JobDef[]): ReleaseDef {
  const steps: CanaryStep[] = (release.strategy?.steps ?? [{ weight: 100 }]).map((step) => {
    if ("weight" in step) return { kind: "weight", weight: step.weight };
    if ("pause" in step) return typeof step.pause === "string" ? { kind: "pause", durationMs: ms(step.pause)! } : { kind: "pause" };
    const durationMs = ms(step.analysis.duration);
    return durationMs === undefined ? { kind: "analysis" } : { kind: "analysis", durationMs };
  });
  const analysis: AnalysisDef | undefined = release.analysis && {
    intervalMs: ms(release.analysis.interval)!,
    failureLimit: release.analysis["failure-limit"],
    inconclusiveLimit: release.analysis["inconclusive-limit"],
    minRequests: release.analysis["min-requests"],
    metrics: release.analysis.metrics.map((metric): MetricDef => {
      const max = parseThreshold(metric.max);
      const min = parseThreshold(metric.min);
      return {
        name: metric.name,
        source: metric.prometheus ? { kind: "prometheus", ...metric.prometheus } : { kind: "builtin", metric: metric.builtin ?? metric.name },
        ...(max !== undefined ? { max } : {}),
        ...(min !== undefined ? { min } : {}),
      };
    }),
  };
  return {
    needs: list(release.needs) ?? jobs.map((job) => job.id),
    ...(release.if !== undefined ? { if: release.if } : {}),
    ...(release.artifact ? { artifact: release.artifact } : {}),
    target: normalizeTarget(release.target),
    steps,
    ...(release.strategy?.ab ? { ab: release.strategy.ab } : {}),
    ...(analysis ? { analysis } : {}),
    progressDeadlineMs: ms(release["progress-deadline"]) ?? DEFAULT_PROGRESS_DEADLINE_MS,
    rollback: release.rollback,
    keepVersions: release["keep-versions"],
    ...(release.notify ? { notifyWebhook: release.notify.webhook } : {}),
  };
}

function normalizeTarget(target: ReleaseDocument["target"]): ReleaseTarget {
  switch (target.type) {
    case "fc":
      return dropUndefined({
        type: "fc",
        region: target.region,
        function: target.function,
        alias: target.alias,
        image: target.image,
        runtime: target.runtime,
        handler: target.handler,
        memoryMb: target["memory-mb"],
        cpu: target.cpu,
        timeoutMs: ms(target.timeout),
        instanceConcurrency: target["instance-concurrency"],
        env: envStrings(target.env),
        ossBucket: target["oss-bucket"],
      });
    case "sae":
      return dropUndefined({
        type: "sae",
        region: target.region,
        appId: target["app-id"],
        image: target.image,
        packageUrl: target["package-url"],
        packageVersion: target["package-version"],
        minReadyInstances: target["min-ready-instances"],
        abGateway: abGateway(target["ab-gateway"]),
      });
    case "local":
      return dropUndefined({
        type: "local",
        command: target.command,
        port: target.port,
        healthPath: target["health-path"],
        directory: target.directory,
        env: envStrings(target.env),
      });
  }
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function abGateway(gateway: Extract<ReleaseDocument["target"], { type: "sae" }>["ab-gateway"]): Extract<ReleaseTarget, { type: "sae" }>["abGateway"] {
  if (!gateway) return undefined;
  return "alb-ingress" in gateway ? { kind: "alb", ingressId: gateway["alb-ingress"] } : { kind: "spring-cloud", path: gateway["spring-cloud-path"] };
}
