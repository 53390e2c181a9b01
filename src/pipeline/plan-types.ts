// What the planner produces: the jobs of one pipeline run, decided as far as can be before running.
import type { Value } from "./expressions";
import type { ConcurrencyDef, EventName, ReleaseDef, Scalar } from "./model";

export interface EventContext {
  event: EventName;
  /** Full ref, e.g. refs/heads/main, refs/tags/v1.2.0, refs/pull/7/head. */
  ref: string;
  sha: string;
  branch?: string;
  tag?: string;
  /** Target branch of a pull or merge request. */
  targetBranch?: string;
  action?: "opened" | "synchronize" | "reopened";
  changedFiles?: string[];
  inputs?: Record<string, Scalar>;
}

export interface PlanOptions {
  /** Run only these jobs (by id or display name) and what they need. */
  onlyJobs?: string[];
}

export interface PlannedStep {
  index: number;
  name: string;
  /** Shell text; each `${{ }}` became a reference to a GUST_EXPR_n variable defined in `env`. */
  script: string;
  env: Record<string, string>;
  timeoutMs?: number;
  continueOnError: boolean;
  workingDirectory?: string;
  image?: string;
  when: { onSuccess: boolean; onFailure: boolean };
}

export type CacheKeyPart = string | { hashFiles: string[] };

export interface JobCondition {
  /** The expression text (wrapper removed); undefined means the default, success(). */
  source?: string;
  /** True when the condition reads success()/failure()/always()/cancelled(). */
  usesStatus: boolean;
}

/** What waits for jobs and runs only if its condition holds: a job, or the release. */
export interface Gated {
  /** Keys of the planned jobs this one waits for. */
  needs: string[];
  /** Job ids this one needs, for `needs.<id>.result`. */
  needsJobIds: string[];
  condition: JobCondition;
  /** Variables the condition is evaluated with at run time (needs added then). */
  variables: Record<string, Value>;
  state: "pending" | "skipped";
  skipReason?: string;
}

export interface PlannedJob extends Gated {
  /** Unique in the plan, safe in paths and env: `test-node-20`. */
  key: string;
  /** The job's id in the file. */
  jobId: string;
  /** Display name: `test (node: 20)`. */
  name: string;
  matrix?: Record<string, Scalar>;
  image?: string;
  env: Record<string, string>;
  secrets: string[];
  timeoutMs: number;
  retry: { count: number; exitCodes?: number[] };
  resources?: { cpu?: string; memory?: string };
  services: Array<{ name: string; image: string; env: Record<string, string>; ports: number[]; command?: string[] }>;
  artifacts?: { paths: string[]; expireInMs: number };
  /** Keys of needed jobs whose artifacts this job receives. */
  artifactsFrom: string[];
  cache?: { key: CacheKeyPart[]; paths: string[]; restoreKeys: string[] };
  concurrency?: ConcurrencyDef;
  /** Matrix siblings share a group limited by max-parallel, cancelled together under fail-fast. */
  matrixGroup?: { maxParallel?: number; failFast: boolean };
  steps: PlannedStep[];
}

export interface PlannedRelease extends Gated {
  def: ReleaseDef;
}

export interface Plan {
  pipeline: { name: string; file: string };
  event: EventContext;
  triggered: boolean;
  /** Why the pipeline runs, or why it does not. */
  reason: string;
  inputs: Record<string, Scalar>;
  env: Record<string, string>;
  concurrency?: ConcurrencyDef;
  /** In dependency order: every job comes after the jobs it needs. */
  jobs: PlannedJob[];
  release?: PlannedRelease;
}

export interface PlanProblem {
  /** Field path in the file, e.g. jobs.test.matrix. */
  path: string;
  message: string;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };
