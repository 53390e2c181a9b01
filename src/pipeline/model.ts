// The canonical pipeline model: the validated file with shorthands expanded and durations in ms.
// Expressions and templates are kept as text; the planner evaluates them.
import type { EventName } from "./schema/triggers";

export type { EventName };
export type Scalar = string | number | boolean;

export interface RefFilter {
  /** Globs that must match (`!glob` excludes); undefined means any. */
  include?: string[];
  exclude?: string[];
}

export interface PathFilter {
  paths?: string[];
  pathsIgnore?: string[];
}

export interface PushTrigger extends PathFilter {
  branches: RefFilter;
  tags: RefFilter;
  /** Which kinds of ref the trigger names: neither filter means both. */
  onBranches: boolean;
  onTags: boolean;
}

export interface ReviewTrigger extends PathFilter {
  /** Filters the target branch. */
  branches: RefFilter;
  types: Array<"opened" | "synchronize" | "reopened">;
}

export interface ManualInput {
  type: "string" | "boolean" | "number" | "choice";
  description?: string;
  required: boolean;
  default?: Scalar;
  options?: Scalar[];
}

export interface ScheduleEntry {
  cron: string;
  timezone: string;
  branch?: string;
}

export interface Triggers {
  push?: PushTrigger;
  pullRequest?: ReviewTrigger;
  mergeRequest?: ReviewTrigger;
  tag?: RefFilter;
  manual?: { inputs: Record<string, ManualInput> };
  schedule: ScheduleEntry[];
}

export interface ConcurrencyDef {
  group: string;
  cancelInProgress: boolean;
}

export interface StepDef {
  name?: string;
  run: string;
  env: Record<string, string>;
  if?: string | boolean;
  timeoutMs?: number;
  continueOnError: boolean;
  workingDirectory?: string;
  image?: string;
}

export interface MatrixDef {
  axes: Record<string, Scalar[]>;
  include: Array<Record<string, Scalar>>;
  exclude: Array<Record<string, Scalar>>;
  maxParallel?: number;
  failFast: boolean;
}

export interface ServiceDef {
  name: string;
  image: string;
  env: Record<string, string>;
  ports: number[];
  command?: string[];
}

export interface JobDef {
  id: string;
  name?: string;
  image?: string;
  needs: string[];
  if?: string | boolean;
  env: Record<string, string>;
  secrets: string[];
  matrix?: MatrixDef;
  timeoutMs: number;
  retry: { count: number; exitCodes?: number[] };
  resources?: { cpu?: string; memory?: string };
  services: ServiceDef[];
  artifacts?: { paths: string[]; expireInMs: number };
  cache?: { key: string; paths: string[]; restoreKeys: string[] };
  concurrency?: ConcurrencyDef;
  steps: StepDef[];
}

export type ReleaseTarget =
  | {
      type: "fc";
      region: string;
      function: string;
      alias: string;
      image?: string;
      runtime?: string;
      handler?: string;
      memoryMb?: number;
      cpu?: number;
      timeoutMs?: number;
      instanceConcurrency?: number;
      env: Record<string, string>;
      ossBucket?: string;
    }
  | {
      type: "sae";
      region: string;
      appId: string;
      image?: string;
      packageUrl?: string;
      packageVersion?: string;
      minReadyInstances?: number;
      /** Where SAE's grey tag routes (A/B by header or cookie) take effect. */
      abGateway?: { kind: "alb"; ingressId: string } | { kind: "spring-cloud"; path: string };
    }
  | { type: "local"; command: string; port: number; healthPath?: string; directory?: string; env: Record<string, string> };

export type CanaryStep =
  | { kind: "weight"; weight: number }
  /** durationMs undefined: wait for a person. */
  | { kind: "pause"; durationMs?: number }
  | { kind: "analysis"; durationMs?: number };

export interface MetricDef {
  name: string;
  source: { kind: "builtin"; metric: string } | { kind: "prometheus"; url: string; query: string };
  /** Thresholds in the metric's unit: ratios for rates (1% → 0.01), milliseconds for latencies. */
  max?: number;
  min?: number;
}

export interface AnalysisDef {
  intervalMs: number;
  failureLimit: number;
  inconclusiveLimit: number;
  minRequests: number;
  metrics: MetricDef[];
}

export interface ReleaseDef {
  needs: string[];
  if?: string | boolean;
  artifact?: { from: string; path?: string };
  target: ReleaseTarget;
  steps: CanaryStep[];
  ab?: { header?: { name: string; value: string }; cookie?: { name: string; value: string } };
  analysis?: AnalysisDef;
  progressDeadlineMs: number;
  rollback: "auto" | "manual";
  keepVersions: number;
  notifyWebhook?: string;
}

export interface Pipeline {
  file: string;
  name: string;
  triggers: Triggers;
  env: Record<string, string>;
  concurrency?: ConcurrencyDef;
  jobs: JobDef[];
  release?: ReleaseDef;
}

export const DEFAULT_JOB_TIMEOUT_MS = 60 * 60_000;
export const DEFAULT_ARTIFACT_EXPIRY_MS = 7 * 86_400_000;
export const DEFAULT_PROGRESS_DEADLINE_MS = 30 * 60_000;
export const MAX_MATRIX_COMBINATIONS = 256;
