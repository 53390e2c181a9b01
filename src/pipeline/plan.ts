// The planner: pipeline + event → which jobs run (and why the others do not), matrix expanded,
// in dependency order, with env and steps resolved. Pure: no I/O, no clock.
import { decideJob, type JobResult } from "./decide";
import { compileExpression, evaluate, findCalls, isTruthy, parseTemplate, referencedPaths, stringify, stripConditionWrapper, usesStatusFunction, type EvalContext, type Value } from "./expressions";
import { resolveInputs } from "./inputs";
import { expandMatrix, matrixJobName, type Combination } from "./matrix";
import type { JobDef, Pipeline, ReleaseDef, Scalar } from "./model";
import type { CacheKeyPart, EventContext, JobCondition, Plan, PlannedJob, PlannedRelease, PlannedStep, PlanOptions, PlanProblem, PlanResult } from "./plan-types";
import { quoteStateAfter, variableReference, type QuoteState } from "./shell-quoting";
import { matchTrigger } from "./trigger-match";

export function planPipeline(pipeline: Pipeline, event: EventContext, options: PlanOptions = {}): PlanResult {
  const problems: PlanProblem[] = [];
  const trigger = matchTrigger(pipeline.triggers, event);
  const { inputs, problems: inputProblems } = resolveInputs(pipeline.triggers.manual?.inputs ?? {}, event.inputs ?? {}, event.event === "manual");
  problems.push(...inputProblems);

  const base: Record<string, Value> = {
    event: event.event,
    ref: event.ref,
    branch: event.branch ?? null,
    tag: event.tag ?? null,
    sha: event.sha,
    inputs,
    env: {},
    matrix: {},
  };
  const env = renderEnv(pipeline.env, base);
  const plan: Plan = {
    pipeline: { name: pipeline.name, file: pipeline.file },
    event,
    triggered: trigger.matched,
    reason: trigger.reason,
    inputs,
    env,
    ...(pipeline.concurrency ? { concurrency: { ...pipeline.concurrency, group: render(pipeline.concurrency.group, { ...base, env }) } } : {}),
    jobs: [],
  };
  if (!trigger.matched) return problems.length ? { ok: false, problems } : { ok: true, plan };

  const byJobId = new Map<string, PlannedJob[]>();
  const usedKeys = new Set<string>();
  for (const job of pipeline.jobs) {
    const combinations: Array<{ values?: Combination; nameKeys: string[] }> = [];
    if (job.matrix) {
      const expanded = expandMatrix(job.matrix);
      if (!expanded.ok) {
        problems.push({ path: `jobs.${job.id}.matrix`, message: expanded.error });
        continue;
      }
      expanded.expansion.combinations.forEach((values, i) => combinations.push({ values, nameKeys: expanded.expansion.nameKeys[i]! }));
    } else {
      combinations.push({ nameKeys: [] });
    }
    byJobId.set(job.id, combinations.map(({ values, nameKeys }) => planJob(job, values, nameKeys, base, env, usedKeys)));
  }
  if (problems.length) return { ok: false, problems };

  for (const jobs of byJobId.values()) {
    for (const job of jobs) {
      job.needs = job.needsJobIds.flatMap((id) => (byJobId.get(id) ?? []).map((needed) => needed.key));
      job.artifactsFrom = job.needsJobIds.flatMap((id) => (byJobId.get(id) ?? []).filter((needed) => needed.artifacts).map((needed) => needed.key));
    }
  }
  plan.jobs = dependencyOrder([...byJobId.values()].flat());
  if (options.onlyJobs?.length) {
    const unknown = selectJobs(plan.jobs, options.onlyJobs);
    for (const name of unknown) problems.push({ path: "jobs", message: `no job named '${name}'` });
  }
  propagateSkips(plan.jobs);
  if (pipeline.release) plan.release = planRelease(pipeline, byJobId, base, env, plan.jobs);
  return problems.length ? { ok: false, problems } : { ok: true, plan };
}

function context(variables: Record<string, Value>, extra?: Partial<EvalContext>): EvalContext {
  return { variables, ...extra };
}

/** Renders a template whose parts are all known at plan time. */
function render(text: string, variables: Record<string, Value>): string {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return text;
  return parsed.parts.map((part) => (part.kind === "text" ? part.text : stringify(evaluate(part.expr, context(variables))))).join("");
}

function renderEnv(env: Record<string, string>, variables: Record<string, Value>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) out[key] = render(value, variables);
  return out;
}

/**
 * A script's `${{ }}` values never become shell text: each becomes `${GUST_EXPR_n}` and its value
 * an environment variable, so a branch named `$(rm -rf ~)` stays a string.
 */
function renderScript(run: string, variables: Record<string, Value>): { script: string; env: Record<string, string> } {
  const parsed = parseTemplate(run);
  if (!parsed.ok) return { script: run, env: {} };
  const env: Record<string, string> = {};
  let script = "";
  let counter = 0;
  let quoting: QuoteState = "none";
  for (const part of parsed.parts) {
    if (part.kind === "text") {
      script += part.text;
      quoting = quoteStateAfter(part.text, quoting);
      continue;
    }
    const name = `GUST_EXPR_${++counter}`;
    env[name] = stringify(evaluate(part.expr, context(variables)));
    script += variableReference(name, quoting);
  }
  return { script, env };
}

function conditionOf(value: string | boolean | undefined): JobCondition {
  if (value === undefined) return { usesStatus: false };
  if (typeof value === "boolean") return { source: String(value), usesStatus: false };
  const source = stripConditionWrapper(value).source.trim();
  const compiled = compileExpression(source);
  return { source, usesStatus: compiled.ok && usesStatusFunction(compiled.expr) };
}

/** Evaluates a step's `if` for the two situations a step can meet: all fine, or an earlier failure. */
function stepWhen(value: string | boolean | undefined, variables: Record<string, Value>): PlannedStep["when"] {
  const condition = conditionOf(value);
  if (condition.source === undefined) return { onSuccess: true, onFailure: false };
  const compiled = compileExpression(condition.source);
  if (!compiled.ok) return { onSuccess: false, onFailure: false };
  const holds = (failed: boolean) => isTruthy(evaluate(compiled.expr, context(variables, { status: { failed, cancelled: false } })));
  return condition.usesStatus ? { onSuccess: holds(false), onFailure: holds(true) } : { onSuccess: holds(false), onFailure: false };
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "job";
}

function uniqueKey(wanted: string, used: Set<string>): string {
  let key = wanted;
  for (let n = 2; used.has(key); n++) key = `${wanted}-${n}`;
  used.add(key);
  return key;
}

function planJob(job: JobDef, values: Combination | undefined, nameKeys: string[], base: Record<string, Value>, pipelineEnv: Record<string, string>, usedKeys: Set<string>): PlannedJob {
  const matrix: Record<string, Value> = values ?? {};
  const variables = { ...base, env: pipelineEnv, matrix };
  const jobEnv = { ...pipelineEnv, ...renderEnv(job.env, variables) };
  const jobVariables = { ...variables, env: jobEnv };
  const name = job.name !== undefined ? render(job.name, variables) : values ? matrixJobName(job.id, values, nameKeys) : job.id;
  const key = uniqueKey(slug(values ? [job.id, ...nameKeys.filter((k) => k in values).flatMap((k) => [k, String(values[k])])].join("-") : job.id), usedKeys);
  const condition = conditionOf(job.if);
  const planned: PlannedJob = {
    key,
    jobId: job.id,
    name,
    ...(values ? { matrix: values as Record<string, Scalar> } : {}),
    needs: [],
    needsJobIds: job.needs,
    condition,
    variables: jobVariables,
    state: "pending",
    // The job's env is known before its container starts, so its image sees it, as its services do.
    ...(job.image !== undefined ? { image: render(job.image, jobVariables) } : {}),
    env: jobEnv,
    secrets: job.secrets,
    timeoutMs: job.timeoutMs,
    retry: job.retry,
    ...(job.resources ? { resources: job.resources } : {}),
    services: job.services.map((service) => ({ ...service, image: render(service.image, jobVariables), env: renderEnv(service.env, jobVariables) })),
    ...(job.artifacts ? { artifacts: job.artifacts } : {}),
    artifactsFrom: [],
    ...(job.cache ? { cache: { key: cacheKeyParts(job.cache.key, jobVariables), paths: job.cache.paths, restoreKeys: job.cache.restoreKeys.map((k) => render(k, jobVariables)) } } : {}),
    ...(job.concurrency ? { concurrency: { ...job.concurrency, group: render(job.concurrency.group, jobVariables) } } : {}),
    ...(job.matrix ? { matrixGroup: { ...(job.matrix.maxParallel !== undefined ? { maxParallel: job.matrix.maxParallel } : {}), failFast: job.matrix.failFast } } : {}),
    steps: job.steps.map((step, index) => {
      const stepEnv = renderEnv(step.env, jobVariables);
      const stepVariables = { ...jobVariables, env: { ...jobEnv, ...stepEnv } };
      const { script, env } = renderScript(step.run, stepVariables);
      return {
        index,
        name: step.name !== undefined ? render(step.name, stepVariables) : defaultStepName(step.run),
        script,
        env: { ...stepEnv, ...env },
        ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
        continueOnError: step.continueOnError,
        ...(step.workingDirectory !== undefined ? { workingDirectory: render(step.workingDirectory, stepVariables) } : {}),
        ...(step.image !== undefined ? { image: render(step.image, stepVariables) } : {}),
        when: stepWhen(step.if, stepVariables),
      };
    }),
  };
  // A condition that reads neither needs nor status is decided now.
  if (condition.source !== undefined && !condition.usesStatus && !readsNeeds(condition.source)) {
    const decision = decideJob({ condition, variables: jobVariables, needs: {}, pipelineCancelled: false });
    if (!decision.run) {
      planned.state = "skipped";
      planned.skipReason = decision.reason;
    }
  }
  return planned;
}

/** Reads `needs.…`? Parsed, not searched: `branch == 'needs-fix'` is decided now like any other. */
function readsNeeds(source: string): boolean {
  const compiled = compileExpression(source);
  return !compiled.ok || referencedPaths(compiled.expr).some((path) => path[0] === "needs");
}

function defaultStepName(run: string): string {
  const first = run.split("\n").find((line) => line.trim() !== "")?.trim() ?? "run";
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** Literal text, plus hashFiles() calls that the executor resolves inside the workspace. */
function cacheKeyParts(key: string, variables: Record<string, Value>): CacheKeyPart[] {
  const parsed = parseTemplate(key, { functions: ["hashFiles"] });
  if (!parsed.ok) return [key];
  const parts: CacheKeyPart[] = [];
  for (const part of parsed.parts) {
    if (part.kind === "text") {
      parts.push(part.text);
      continue;
    }
    const calls = findCalls(part.expr, "hashFiles");
    const top = calls.find((call) => call.start === part.expr.start && call.end === part.expr.end);
    if (top) {
      parts.push({ hashFiles: top.args.map((arg) => stringify(evaluate(arg, context(variables)))) });
    } else {
      parts.push(stringify(evaluate(part.expr, context(variables, { functions: { hashFiles: () => "" } }))));
    }
  }
  return parts;
}

/** Kahn's algorithm, keeping file order among jobs that are ready together. */
function dependencyOrder(jobs: PlannedJob[]): PlannedJob[] {
  const byKey = new Map(jobs.map((job) => [job.key, job]));
  const done = new Set<string>();
  const ordered: PlannedJob[] = [];
  while (ordered.length < jobs.length) {
    const ready = jobs.filter((job) => !done.has(job.key) && job.needs.every((need) => done.has(need) || !byKey.has(need)));
    // The parser rejects cycles; this guard keeps a bad plan from looping forever.
    if (ready.length === 0) return [...ordered, ...jobs.filter((job) => !done.has(job.key))];
    for (const job of ready) {
      done.add(job.key);
      ordered.push(job);
    }
  }
  return ordered;
}

/** Keeps the named jobs and everything they need; returns the names that matched nothing. */
function selectJobs(jobs: PlannedJob[], names: string[]): string[] {
  const byKey = new Map(jobs.map((job) => [job.key, job]));
  const wanted = new Set<string>();
  const unknown: string[] = [];
  const add = (job: PlannedJob) => {
    if (wanted.has(job.key)) return;
    wanted.add(job.key);
    for (const need of job.needs) add(byKey.get(need)!);
  };
  for (const name of names) {
    const matched = jobs.filter((job) => job.jobId === name || job.name === name || job.key === name);
    if (matched.length === 0) unknown.push(name);
    matched.forEach(add);
  }
  for (const job of jobs) {
    if (!wanted.has(job.key) && job.state === "pending") {
      job.state = "skipped";
      job.skipReason = "not selected (--job)";
    }
  }
  return unknown;
}

/**
 * Jobs whose needs are skipped already are skipped too (unless their condition says otherwise).
 * Needs are judged per job id, as at run time (aggregateResults): a needed job is skipped when all
 * of its matrix siblings are. Jobs come in dependency order, so skips travel down the graph.
 */
function propagateSkips(jobs: PlannedJob[]): void {
  for (const job of jobs) {
    if (job.state === "skipped" || job.needs.length === 0) continue;
    const skipped = skippedNeeds(jobs, job.needsJobIds);
    // Without a status function one skipped need is enough; with one, every result must be known.
    const decidable = job.condition.usesStatus ? skipped.length === job.needsJobIds.length : skipped.length > 0;
    if (!decidable) continue;
    const needs: Record<string, JobResult> = Object.fromEntries(skipped.map((id) => [id, "skipped"]));
    const decision = decideJob({ condition: job.condition, variables: job.variables, needs, pipelineCancelled: false });
    if (!decision.run) {
      job.state = "skipped";
      job.skipReason = decision.reason;
    }
  }
}

/** The needed job ids all of whose planned jobs are skipped. */
function skippedNeeds(jobs: PlannedJob[], needsJobIds: string[]): string[] {
  return needsJobIds.filter((id) => {
    const siblings = jobs.filter((job) => job.jobId === id);
    return siblings.length > 0 && siblings.every((job) => job.state === "skipped");
  });
}

function planRelease(pipeline: Pipeline, byJobId: Map<string, PlannedJob[]>, base: Record<string, Value>, env: Record<string, string>, jobs: PlannedJob[]): PlannedRelease {
  const def = renderReleaseTarget(pipeline.release!, { ...base, env });
  const needs = def.needs.flatMap((id) => (byJobId.get(id) ?? []).map((job) => job.key));
  const release: PlannedRelease = { def, needs, needsJobIds: def.needs, condition: conditionOf(def.if), variables: { ...base, env }, state: "pending" };
  const skipped = skippedNeeds(jobs, def.needs);
  if (skipped.length > 0 && !release.condition.usesStatus) {
    release.state = "skipped";
    release.skipReason = `needs ${skipped.map((id) => `'${id}'`).join(", ")}, which will not run`;
  } else if (release.condition.source !== undefined && !release.condition.usesStatus && !readsNeeds(release.condition.source)) {
    const decision = decideJob({ condition: release.condition, variables: release.variables, needs: {}, pipelineCancelled: false });
    if (!decision.run) {
      release.state = "skipped";
      release.skipReason = decision.reason;
    }
  }
  return release;
}

/** The target's templated fields (function name, image, package) rendered with the plan's values. */
function renderReleaseTarget(def: ReleaseDef, variables: Record<string, Value>): ReleaseDef {
  const target = { ...def.target } as Record<string, unknown>;
  for (const field of ["function", "image", "packageUrl", "packageVersion"]) {
    if (typeof target[field] === "string") target[field] = render(target[field], variables);
  }
  if ("env" in def.target) target.env = renderEnv(def.target.env, variables);
  return { ...def, target: target as ReleaseDef["target"] };
}
