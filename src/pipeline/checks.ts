// Checks that span fields (needs graph, matrix references, release wiring). They run on the raw
// YAML data, not the validated document, so they still report when other fields are invalid:
// a file's problems are all reported at once.
import { compileExpression, parseTemplate, referencedPaths, stripConditionWrapper, type Expr } from "./expressions";
import type { FieldPath } from "./source-map";
import { didYouMean } from "./suggest";

export interface Problem {
  path: FieldPath;
  message: string;
  hint?: string;
  /** Point at the key rather than its value. */
  keyOf?: boolean;
}

type Json = Record<string, unknown>;

const isMap = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]);

export function crossFieldProblems(data: unknown): Problem[] {
  if (!isMap(data) || !isMap(data.jobs)) return [];
  const jobs = data.jobs;
  const problems: Problem[] = [];
  const jobIds = Object.keys(jobs);
  const graph = new Map<string, string[]>();

  for (const [id, job] of Object.entries(jobs)) {
    if (!isMap(job)) continue;
    const needs = asList(job.needs);
    const valid: string[] = [];
    needs.forEach((need, index) => {
      if (typeof need !== "string") return;
      const path = Array.isArray(job.needs) ? ["jobs", id, "needs", index] : ["jobs", id, "needs"];
      if (need === id) problems.push({ path, message: `job '${id}' needs itself`, hint: `remove '${id}' from its needs` });
      else if (!(need in jobs)) problems.push({ path, message: `unknown job '${need}' in needs`, hint: didYouMean(need, jobIds) ?? `jobs: ${jobIds.join(", ")}` });
      else valid.push(need);
    });
    graph.set(id, valid);
    // Against every listed need: an unknown one is reported above, not again as "not needed".
    const listed = needs.filter((need): need is string => typeof need === "string");
    problems.push(...conditionNeedsProblems(job.if, ["jobs", id, "if"], listed));
    problems.push(...matrixProblems(id, job));
  }
  problems.push(...cycleProblems(graph, jobs));
  if (isMap(data.release)) problems.push(...releaseProblems(data.release, jobs));
  return problems;
}

function compileCondition(value: unknown): Expr | undefined {
  if (typeof value !== "string") return undefined;
  const result = compileExpression(stripConditionWrapper(value).source);
  return result.ok ? result.expr : undefined;
}

/** `needs.<job>.result` only makes sense for a job listed in needs. */
function conditionNeedsProblems(condition: unknown, path: FieldPath, needs: string[]): Problem[] {
  const expr = compileCondition(condition);
  if (!expr) return [];
  const problems: Problem[] = [];
  for (const ref of referencedPaths(expr)) {
    if (ref[0] !== "needs" || ref.length < 2) continue;
    const job = ref[1]!;
    if (!needs.includes(job)) {
      problems.push({ path, message: `'needs.${job}' refers to a job this one does not need`, hint: didYouMean(job, needs) ?? `add '${job}' to needs` });
    } else if (ref.length > 2 && ref[2] !== "result") {
      problems.push({ path, message: `'needs.${job}.${ref[2]}' is unknown`, hint: "only needs.<job>.result exists" });
    }
  }
  return problems;
}

function cycleProblems(graph: Map<string, string[]>, jobs: Json): Problem[] {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const problems: Problem[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, "visiting");
    stack.push(id);
    for (const need of graph.get(id) ?? []) {
      if (state.get(need) === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(need)), need];
        const key = [...cycle].slice(0, -1).sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          const job = jobs[id] as Json;
          const index = Array.isArray(job.needs) ? job.needs.indexOf(need) : -1;
          problems.push({
            path: index >= 0 ? ["jobs", id, "needs", index] : ["jobs", id, "needs"],
            message: `needs cycle: ${cycle.join(" → ")}`,
            hint: "a job cannot wait, directly or through others, for itself; remove one of these needs",
          });
        }
      } else if (state.get(need) === undefined) {
        visit(need);
      }
    }
    stack.pop();
    state.set(id, "done");
  };
  for (const id of graph.keys()) if (!state.has(id)) visit(id);
  return problems;
}

const MATRIX_RESERVED = new Set(["include", "exclude", "max-parallel", "fail-fast"]);

function matrixProblems(id: string, job: Json): Problem[] {
  const problems: Problem[] = [];
  const matrix = isMap(job.matrix) ? job.matrix : undefined;
  const axes = matrix ? Object.keys(matrix).filter((key) => !MATRIX_RESERVED.has(key)) : [];
  const known = new Set(axes);
  for (const entry of asList(matrix?.include)) if (isMap(entry)) for (const key of Object.keys(entry)) known.add(key);
  asList(matrix?.exclude).forEach((entry, index) => {
    if (!isMap(entry)) return;
    for (const key of Object.keys(entry)) {
      if (!axes.includes(key)) problems.push({ path: ["jobs", id, "matrix", "exclude", index, key], keyOf: true, message: `exclude names '${key}', which is not a matrix axis`, hint: didYouMean(key, axes) ?? `axes: ${axes.join(", ") || "none"}` });
    }
  });
  for (const [path, text, isCondition] of templatedFields(id, job)) {
    for (const ref of referencesIn(text, isCondition)) {
      if (ref[0] !== "matrix" || ref.length < 2) continue;
      const axis = ref[1]!;
      if (!matrix) problems.push({ path, message: `'matrix.${axis}' is used but job '${id}' has no matrix` });
      else if (!known.has(axis)) problems.push({ path, message: `unknown matrix axis '${axis}'`, hint: didYouMean(axis, known) ?? `axes: ${[...known].join(", ")}` });
    }
  }
  return problems;
}

function referencesIn(text: string, isCondition: boolean): string[][] {
  if (isCondition) {
    const expr = compileCondition(text);
    return expr ? referencedPaths(expr) : [];
  }
  const parsed = parseTemplate(text, { functions: ["hashFiles"] });
  if (!parsed.ok) return [];
  return parsed.parts.flatMap((part) => (part.kind === "expr" ? referencedPaths(part.expr) : []));
}

/** Every field of a job where expressions may appear, with whether it is a condition. */
function templatedFields(id: string, job: Json): Array<[FieldPath, string, boolean]> {
  const fields: Array<[FieldPath, string, boolean]> = [];
  const add = (path: FieldPath, value: unknown, isCondition = false) => {
    if (typeof value === "string") fields.push([path, value, isCondition]);
  };
  const base = ["jobs", id];
  add([...base, "name"], job.name);
  add([...base, "image"], job.image);
  add([...base, "if"], job.if, true);
  if (isMap(job.env)) for (const [key, value] of Object.entries(job.env)) add([...base, "env", key], value);
  if (isMap(job.cache)) {
    add([...base, "cache", "key"], job.cache.key);
    const restoreKeys = job.cache["restore-keys"];
    if (Array.isArray(restoreKeys)) restoreKeys.forEach((key, index) => add([...base, "cache", "restore-keys", index], key));
  }
  if (isMap(job.concurrency)) add([...base, "concurrency", "group"], job.concurrency.group);
  else add([...base, "concurrency"], job.concurrency);
  if (isMap(job.services)) {
    for (const [name, service] of Object.entries(job.services)) {
      if (!isMap(service)) continue;
      add([...base, "services", name, "image"], service.image);
      if (isMap(service.env)) for (const [key, value] of Object.entries(service.env)) add([...base, "services", name, "env", key], value);
    }
  }
  asList(job.steps).forEach((step, index) => {
    if (!isMap(step)) return;
    const path = [...base, "steps", index];
    add([...path, "name"], step.name);
    add([...path, "run"], step.run);
    add([...path, "if"], step.if, true);
    add([...path, "image"], step.image);
    add([...path, "working-directory"], step["working-directory"]);
    if (isMap(step.env)) for (const [key, value] of Object.entries(step.env)) add([...path, "env", key], value);
  });
  return fields;
}

function releaseProblems(release: Json, jobs: Json): Problem[] {
  const problems: Problem[] = [];
  const jobIds = Object.keys(jobs);
  const needs = asList(release.needs).filter((need): need is string => typeof need === "string");
  // Like a job's if, the release's may read needs.<job> only of what it needs (default: every job).
  problems.push(...conditionNeedsProblems(release.if, ["release", "if"], release.needs === undefined ? jobIds : needs));
  needs.forEach((need, index) => {
    if (!(need in jobs)) problems.push({ path: Array.isArray(release.needs) ? ["release", "needs", index] : ["release", "needs"], message: `unknown job '${need}' in needs`, hint: didYouMean(need, jobIds) ?? `jobs: ${jobIds.join(", ")}` });
  });
  const target = isMap(release.target) ? release.target : undefined;
  const artifact = isMap(release.artifact) ? release.artifact : undefined;
  if (artifact && typeof artifact.from === "string") {
    const from = artifact.from;
    const producer = jobs[from];
    if (!isMap(producer)) {
      problems.push({ path: ["release", "artifact", "from"], message: `unknown job '${from}'`, hint: didYouMean(from, jobIds) ?? `jobs: ${jobIds.join(", ")}` });
    } else {
      if (producer.artifacts === undefined) problems.push({ path: ["release", "artifact", "from"], message: `job '${from}' declares no artifacts`, hint: `add artifacts: to job '${from}'` });
      if (release.needs !== undefined && !needs.includes(from)) problems.push({ path: ["release", "artifact", "from"], message: `the release takes its artifact from '${from}' but does not need it`, hint: `add '${from}' to release.needs` });
    }
  }
  if (target?.type === "fc" && target.image === undefined && !artifact) {
    problems.push({ path: ["release", "target"], message: "an fc target needs code: an artifact (release.artifact) or an image", hint: "add artifact: {from: build, path: dist/function.zip}" });
  }
  if (target?.type === "sae" && target.image === undefined && target["package-url"] === undefined) {
    problems.push({ path: ["release", "target"], message: "an sae target needs image or package-url" });
  }
  if (target?.type === "local" && !artifact) {
    problems.push({ path: ["release", "target"], message: "a local target runs a job's artifact", hint: "add artifact: {from: <job>, path: <dir>}" });
  }
  const strategy = isMap(release.strategy) ? release.strategy : undefined;
  if (strategy && isMap(strategy.ab) && target?.type === "fc") {
    problems.push({ path: ["release", "strategy", "ab"], message: "FC aliases split traffic by weight only; header or cookie routing is not available", hint: "use weighted steps, or an sae or local target" });
  }
  if (strategy && isMap(strategy.ab) && target?.type === "sae" && target["ab-gateway"] === undefined) {
    problems.push({
      path: ["release", "strategy", "ab"],
      message: "SAE applies header or cookie routes only behind an SAE-managed ALB ingress or in a Spring Cloud application",
      hint: "add target.ab-gateway: {alb-ingress: <ingress id>} or {spring-cloud-path: /}",
    });
  }
  if (strategy && isMap(strategy.ab) && strategy.ab.header === undefined && strategy.ab.cookie === undefined) {
    problems.push({ path: ["release", "strategy", "ab"], message: "ab needs a header or a cookie to route by" });
  }
  const analysis = isMap(release.analysis) ? release.analysis : undefined;
  if (analysis && (target?.type === "fc" || target?.type === "sae")) {
    // Only the local router keeps per-version figures; a builtin metric elsewhere would never have data.
    asList(analysis.metrics).forEach((metric, index) => {
      if (isMap(metric) && metric.prometheus === undefined) {
        problems.push({
          path: ["release", "analysis", "metrics", index],
          message: `metric '${String(metric.name)}' reads the target's own figures, and ${target.type} targets keep none Gust can read`,
          hint: "add prometheus: {url: …, query: …} with {{version}} in the query",
        });
      }
    });
  }
  let previous = 0;
  asList(strategy?.steps).forEach((step, index) => {
    if (!isMap(step)) return;
    if (typeof step.weight === "number") {
      if (step.weight < previous) problems.push({ path: ["release", "strategy", "steps", index, "weight"], message: `weight ${step.weight} is lower than the previous step's ${previous}`, hint: "weights only grow; use rollback to go back" });
      previous = Math.max(previous, step.weight);
    }
    if ("analysis" in step && !isMap(release.analysis)) {
      problems.push({ path: ["release", "strategy", "steps", index], message: "an analysis step needs a release.analysis section", hint: "add analysis: {metrics: [{name: error-rate, max: 1%}]}" });
    }
  });
  return problems;
}
