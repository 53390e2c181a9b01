// The planner: pipeline + event → which jobs run and why the others do not, matrix expanded, in
// dependency order, env resolved, `${{ }}` in scripts passed as GUST_EXPR_n variables.
import { describe, expect, it } from "vitest";
import type { Plan, PlannedJob, PlanOptions, PlanProblem, EventContext } from "./plan-types";
import { planPipeline } from "./plan";
import { parseOk } from "./test-helpers";

const PUSH_MAIN: EventContext = { event: "push", ref: "refs/heads/main", sha: "abc123", branch: "main" };
const pushTo = (branch: string): EventContext => ({ event: "push", ref: `refs/heads/${branch}`, sha: "abc123", branch });
const manual = (inputs: EventContext["inputs"] = {}): EventContext => ({ event: "manual", ref: "refs/heads/main", sha: "abc123", branch: "main", inputs });

function plan(lines: string[], event: EventContext = PUSH_MAIN, options?: PlanOptions): Plan {
  const result = planPipeline(parseOk(lines), event, options);
  if (!result.ok) throw new Error(`expected a plan, got problems: ${JSON.stringify(result.problems)}`);
  return result.plan;
}

function problems(lines: string[], event: EventContext = PUSH_MAIN, options?: PlanOptions): PlanProblem[] {
  const result = planPipeline(parseOk(lines), event, options);
  if (result.ok) throw new Error("expected problems, got a plan");
  return result.problems;
}

function job(p: Plan, key: string): PlannedJob {
  const found = p.jobs.find((j) => j.key === key);
  if (!found) throw new Error(`no planned job '${key}' among ${p.jobs.map((j) => j.key).join(", ")}`);
  return found;
}

const states = (p: Plan) => Object.fromEntries(p.jobs.map((j) => [j.key, j.state === "skipped" ? `skipped: ${j.skipReason}` : j.state]));

describe("triggering", () => {
  it("plans nothing when the event does not start the pipeline, and says why", () => {
    const p = plan(["on: {push: {branches: [main]}}", "jobs:", "  a: {steps: [{run: x}]}"], pushTo("dev"));
    expect(p).toMatchObject({ triggered: false, reason: "branch 'dev' does not match on.push branches", jobs: [] });
    expect(p.release).toBeUndefined();
  });

  it("records the pipeline, the event and why it runs", () => {
    const p = plan(["name: ci", "jobs:", "  a: {steps: [{run: x}]}"]);
    expect(p).toMatchObject({ pipeline: { name: "ci", file: ".gust.yml" }, event: PUSH_MAIN, triggered: true, reason: "push to main" });
  });

  it("plans a pull request into a matching target branch, and not one of another type", () => {
    const file = ["on:", "  pull_request: {branches: [main], types: [opened, synchronize]}", "jobs:", "  a: {steps: [{run: x}]}"];
    const pr: EventContext = { event: "pull_request", ref: "refs/pull/7/head", sha: "s", branch: "feature", targetBranch: "main", action: "opened" };
    expect(plan(file, pr)).toMatchObject({ triggered: true, reason: "pull request into main" });
    expect(plan(file, pr).jobs.map((j) => j.key)).toEqual(["a"]);
    expect(plan(file, { ...pr, action: "reopened" })).toMatchObject({ triggered: false, jobs: [] });
  });

  it("skips a push whose changed files are all ignored", () => {
    const file = ["on: {push: {paths-ignore: ['docs/**']}}", "jobs:", "  a: {steps: [{run: x}]}"];
    expect(plan(file, { ...PUSH_MAIN, changedFiles: ["docs/index.md"] })).toMatchObject({ triggered: false, reason: "every changed file matches paths-ignore docs/**" });
    expect(plan(file, { ...PUSH_MAIN, changedFiles: ["docs/index.md", "src/a.ts"] }).triggered).toBe(true);
  });

  it("still reports input problems when the pipeline is not triggered", () => {
    const file = ["on: {manual: {inputs: {n: {type: number}}}}", "jobs:", "  a: {steps: [{run: x}]}"];
    expect(problems(file, { ...PUSH_MAIN, inputs: { n: "x" } })).toEqual([{ path: "on.manual.inputs.n", message: "input 'n' expects a number, got 'x'" }]);
  });

  it("gives expressions the event, ref, sha, branch and tag", () => {
    const p = plan(["jobs:", "  a:", "    env: {E: '${{ event }} ${{ ref }} ${{ sha }} ${{ branch }} [${{ tag }}]'}", "    steps: [{run: x}]"]);
    expect(job(p, "a").env.E).toBe("push refs/heads/main abc123 main []");
    const tagged = plan(["jobs:", "  a:", "    env: {E: '${{ tag }}/${{ branch }}'}", "    steps: [{run: x}]"], { event: "tag", ref: "refs/tags/v1", sha: "s", tag: "v1" });
    expect(job(tagged, "a").env.E).toBe("v1/");
  });
});

describe("inputs", () => {
  const file = [
    "on:",
    "  manual:",
    "    inputs:",
    "      target: {type: choice, options: [staging, production], default: staging}",
    "      replicas: {type: number, default: 2}",
    "      confirm: {type: boolean, required: true}",
    "  push:",
    "jobs:",
    "  deploy:",
    "    if: inputs.confirm",
    "    env: {TARGET: '${{ inputs.target }}', REPLICAS: 'x${{ inputs.replicas }}'}",
    "    steps: [{run: 'deploy ${{ inputs.target }}'}]",
  ];

  it("fills defaults, coerces given values and exposes them to expressions", () => {
    const p = plan(file, manual({ target: "production", confirm: "true" }));
    expect(p.inputs).toEqual({ target: "production", replicas: 2, confirm: true });
    const deploy = job(p, "deploy");
    expect(deploy.state).toBe("pending");
    expect(deploy.env).toMatchObject({ TARGET: "production", REPLICAS: "x2" });
    expect(deploy.steps[0]!.env).toEqual({ GUST_EXPR_1: "production" });
  });

  it("decides an if on inputs at plan time", () => {
    const p = plan(file, manual({ confirm: false }));
    expect(job(p, "deploy")).toMatchObject({ state: "skipped", skipReason: "if: inputs.confirm is false" });
  });

  it("reports a choice that is not an option", () => {
    expect(problems(file, manual({ target: "prod", confirm: true }))).toEqual([{ path: "on.manual.inputs.target", message: "input 'target' expects one of staging, production, got 'prod'" }]);
  });

  it("reports unknown and missing required inputs together", () => {
    expect(problems(file, manual({ taget: "staging" }))).toEqual([
      { path: "on.manual.inputs", message: "unknown input 'taget' (did you mean 'target'?)" },
      { path: "on.manual.inputs.confirm", message: "input 'confirm' is required" },
    ]);
  });

  it("uses defaults for other events without requiring anything", () => {
    const p = plan(file, PUSH_MAIN);
    expect(p.inputs).toEqual({ target: "staging", replicas: 2, confirm: false });
    expect(job(p, "deploy").state).toBe("skipped");
  });
});

describe("env", () => {
  const file = [
    "env:",
    "  LEVEL: pipeline",
    "  APP: gust",
    "  PORT: 8080",
    "  REF: ref-${{ branch }}",
    "jobs:",
    "  build:",
    "    env:",
    "      LEVEL: job",
    "      JOB_APP: ${{ env.APP }}-job",
    "    steps:",
    "      - run: echo $LEVEL",
    "        env:",
    "          LEVEL: step",
    "          STEP_APP: ${{ env.JOB_APP }}-step",
    "      - run: echo $LEVEL",
  ];

  it("renders pipeline env with the event", () => {
    expect(plan(file).env).toEqual({ LEVEL: "pipeline", APP: "gust", PORT: "8080", REF: "ref-main" });
  });

  it("layers job env over pipeline env, job values seeing pipeline env", () => {
    expect(job(plan(file), "build").env).toEqual({ LEVEL: "job", APP: "gust", PORT: "8080", REF: "ref-main", JOB_APP: "gust-job" });
  });

  it("gives a step its own env, its values seeing the job's env", () => {
    const [first, second] = job(plan(file), "build").steps;
    expect(first!.env).toEqual({ LEVEL: "step", STEP_APP: "gust-job-step" });
    expect(second!.env).toEqual({});
  });

  it("lets a step's if and run read the step's own env", () => {
    const p = plan(["jobs:", "  a:", "    steps:", "      - run: echo ${{ env.MODE }}", "        if: env.MODE == 'fast'", "        env: {MODE: fast}"]);
    const [step] = job(p, "a").steps;
    expect(step!.env).toEqual({ MODE: "fast", GUST_EXPR_1: "fast" });
    expect(step!.when).toEqual({ onSuccess: true, onFailure: false });
  });

  it("reads an unknown env name as empty text", () => {
    const p = plan(["jobs:", "  a:", "    env: {X: '[${{ env.NOPE }}]'}", "    steps: [{run: x}]"]);
    expect(job(p, "a").env.X).toBe("[]");
  });

  it("resolves pipeline and job concurrency groups", () => {
    const p = plan([
      "concurrency: ci-${{ branch }}",
      "jobs:",
      "  deploy:",
      "    matrix: {region: [eu, us]}",
      "    concurrency: {group: 'deploy-${{ matrix.region }}', cancel-in-progress: true}",
      "    steps: [{run: x}]",
    ]);
    expect(p.concurrency).toEqual({ group: "ci-main", cancelInProgress: false });
    expect(p.jobs.map((j) => j.concurrency)).toEqual([
      { group: "deploy-eu", cancelInProgress: true },
      { group: "deploy-us", cancelInProgress: true },
    ]);
  });

  it("renders images, services, working directories and names", () => {
    const p = plan([
      "env: {REGISTRY: registry.example.com}",
      "jobs:",
      "  test:",
      "    name: test on ${{ branch }}",
      "    image: ${{ env.REGISTRY }}/node:${{ env.NODE }}",
      "    env: {NODE: '20', PG: '16'}",
      "    services:",
      "      db: {image: 'postgres:${{ env.PG }}', env: {POSTGRES_DB: '${{ branch }}'}}",
      "    steps:",
      "      - name: in ${{ env.DIR }}",
      "        run: make",
      "        working-directory: ${{ env.DIR }}/app",
      "        image: alpine:${{ env.DIR }}",
      "        env: {DIR: pkg}",
    ]);
    const test = job(p, "test");
    expect(test.name).toBe("test on main");
    expect(test.image).toBe("registry.example.com/node:20");
    expect(test.services).toEqual([{ name: "db", image: "postgres:16", env: { POSTGRES_DB: "main" }, ports: [] }]);
    expect(test.steps[0]).toMatchObject({ name: "in pkg", workingDirectory: "pkg/app", image: "alpine:pkg" });
  });
});

describe("scripts never contain expression values", () => {
  const MALICIOUS = "$(touch /tmp/pwned)";

  it("passes a malicious branch name only as an env value", () => {
    const p = plan(["jobs:", "  build:", "    steps:", '      - run: echo "building ${{ branch }}"'], { event: "push", ref: `refs/heads/${MALICIOUS}`, sha: "s", branch: MALICIOUS });
    const [step] = job(p, "build").steps;
    expect(step!.script).toBe('echo "building ${GUST_EXPR_1}"');
    expect(step!.script).not.toContain("touch");
    expect(step!.env).toEqual({ GUST_EXPR_1: MALICIOUS });
  });

  it("numbers expressions in order, per step", () => {
    const p = plan([
      "jobs:",
      "  build:",
      "    steps:",
      "      - run: |",
      "          echo ${{ branch }}",
      "          echo ${{ sha }} ${{ branch }}",
      "      - run: echo ${{ event }}",
    ]);
    const [first, second] = job(p, "build").steps;
    expect(first!.script).toBe("echo ${GUST_EXPR_1}\necho ${GUST_EXPR_2} ${GUST_EXPR_3}\n");
    expect(first!.env).toEqual({ GUST_EXPR_1: "main", GUST_EXPR_2: "abc123", GUST_EXPR_3: "main" });
    expect(second!.script).toBe("echo ${GUST_EXPR_1}");
    expect(second!.env).toEqual({ GUST_EXPR_1: "push" });
  });

  it("keeps a script without expressions as written", () => {
    const p = plan(["jobs:", "  build:", "    steps:", "      - run: echo $HOME && echo '${not an expression}'"]);
    expect(job(p, "build").steps[0]).toMatchObject({ script: "echo $HOME && echo '${not an expression}'", env: {} });
  });

  it("passes matrix values, inputs and computed values the same way", () => {
    const p = plan(["jobs:", "  t:", "    matrix: {node: [20]}", "    steps:", "      - run: nvm use ${{ matrix.node }} && echo ${{ format('{0}-{1}', branch, matrix.node) }}"]);
    const [step] = job(p, "t-node-20").steps;
    expect(step!.script).toBe("nvm use ${GUST_EXPR_1} && echo ${GUST_EXPR_2}");
    expect(step!.env).toEqual({ GUST_EXPR_1: "20", GUST_EXPR_2: "main-20" });
  });

  it("names a step after the first non-empty line of its script, shortened", () => {
    const long = "x".repeat(70);
    const p = plan(["jobs:", "  a:", "    steps:", "      - run: |", "", "          npm ci", "          npm test", `      - run: ${long}`]);
    const [first, second] = job(p, "a").steps;
    expect(first!.name).toBe("npm ci");
    expect(second!.name).toBe(`${"x".repeat(57)}...`);
    expect(second!.index).toBe(1);
  });
});

describe("step conditions", () => {
  const steps = (...ifs: string[]) => ["jobs:", "  a:", "    steps:", ...ifs.flatMap((condition) => ["      - run: x", `        if: ${condition}`])];

  it("runs a step without if only while everything succeeds", () => {
    expect(job(plan(["jobs:", "  a:", "    steps: [{run: x}]"]), "a").steps[0]!.when).toEqual({ onSuccess: true, onFailure: false });
  });

  it("turns status functions into the two situations a step can meet", () => {
    const p = plan(steps("always()", "failure()", "success()", "\"!cancelled()\"", "success() || failure()"));
    expect(job(p, "a").steps.map((s) => s.when)).toEqual([
      { onSuccess: true, onFailure: true },
      { onSuccess: false, onFailure: true },
      { onSuccess: true, onFailure: false },
      { onSuccess: true, onFailure: true },
      { onSuccess: true, onFailure: true },
    ]);
  });

  it("never runs a step with if: false", () => {
    expect(job(plan(steps("false")), "a").steps[0]!.when).toEqual({ onSuccess: false, onFailure: false });
  });

  it("evaluates other conditions now, as success() && condition", () => {
    expect(job(plan(steps("branch == 'main'")), "a").steps[0]!.when).toEqual({ onSuccess: true, onFailure: false });
    expect(job(plan(steps("branch == 'main'"), pushTo("dev")), "a").steps[0]!.when).toEqual({ onSuccess: false, onFailure: false });
    expect(job(plan(steps("${{ branch != 'main' }}"), pushTo("dev")), "a").steps[0]!.when).toEqual({ onSuccess: true, onFailure: false });
  });

  it("combines a status function with a condition", () => {
    expect(job(plan(steps("failure() && branch == 'main'")), "a").steps[0]!.when).toEqual({ onSuccess: false, onFailure: true });
    expect(job(plan(steps("failure() && branch == 'main'"), pushTo("dev")), "a").steps[0]!.when).toEqual({ onSuccess: false, onFailure: false });
  });

  it("keeps continue-on-error and timeouts", () => {
    const p = plan(["jobs:", "  a:", "    steps:", "      - run: x", "        continue-on-error: true", "        timeout: 2m", "      - run: y"]);
    expect(job(p, "a").steps[0]).toMatchObject({ continueOnError: true, timeoutMs: 120_000 });
    expect(job(p, "a").steps[1]).toMatchObject({ continueOnError: false });
    expect(job(p, "a").steps[1]).not.toHaveProperty("timeoutMs");
  });
});

describe("job conditions", () => {
  it("skips a job whose if is false now, with the reason", () => {
    const p = plan(["jobs:", "  deploy:", "    if: branch == 'release'", "    steps: [{run: x}]"]);
    expect(job(p, "deploy")).toMatchObject({ state: "skipped", skipReason: "if: branch == 'release' is false", condition: { source: "branch == 'release'", usesStatus: false } });
  });

  it("keeps a job whose if is true pending", () => {
    expect(job(plan(["jobs:", "  deploy:", "    if: ${{ branch == 'main' }}", "    steps: [{run: x}]"]), "deploy")).toMatchObject({
      state: "pending",
      condition: { source: "branch == 'main'", usesStatus: false },
    });
  });

  it("skips a job with if: false", () => {
    expect(job(plan(["jobs:", "  a:", "    if: false", "    steps: [{run: x}]"]), "a")).toMatchObject({ state: "skipped", condition: { source: "false" } });
  });

  it("leaves conditions on needs or status for run time", () => {
    const p = plan([
      "jobs:",
      "  build: {steps: [{run: x}]}",
      "  report:",
      "    needs: build",
      "    if: needs.build.result == 'failure'",
      "    steps: [{run: x}]",
      "  cleanup:",
      "    needs: build",
      "    if: always() && branch == 'dev'",
      "    steps: [{run: x}]",
    ]);
    expect(job(p, "report")).toMatchObject({ state: "pending", condition: { source: "needs.build.result == 'failure'", usesStatus: false } });
    expect(job(p, "cleanup")).toMatchObject({ state: "pending", condition: { usesStatus: true } });
  });

  it("decides now a condition that only mentions needs inside a string", () => {
    const p = plan(["jobs:", "  a:", "    if: branch == 'needs-fix'", "    steps: [{run: x}]"]);
    expect(job(p, "a")).toMatchObject({ state: "skipped", skipReason: "if: branch == 'needs-fix' is false" });
  });

  it("hands the job's variables to run time", () => {
    const p = plan(["env: {A: a}", "jobs:", "  t:", "    matrix: {n: [1]}", "    env: {B: b}", "    steps: [{run: x}]"]);
    expect(job(p, "t-n-1").variables).toMatchObject({ branch: "main", event: "push", matrix: { n: 1 }, env: { A: "a", B: "b" }, inputs: {} });
  });
});

describe("skips travel through needs", () => {
  const chain = [
    "jobs:",
    "  deploy:",
    "    if: branch == 'release'",
    "    steps: [{run: x}]",
    "  smoke:",
    "    needs: deploy",
    "    steps: [{run: x}]",
    "  announce:",
    "    needs: smoke",
    "    steps: [{run: x}]",
    "  cleanup:",
    "    needs: deploy",
    "    if: always()",
    "    steps: [{run: x}]",
    "  on-failure:",
    "    needs: deploy",
    "    if: failure()",
    "    steps: [{run: x}]",
  ];

  it("skips dependents down the graph, each naming its need", () => {
    expect(states(plan(chain))).toEqual({
      deploy: "skipped: if: branch == 'release' is false",
      smoke: "skipped: needs 'deploy' skipped",
      cleanup: "pending",
      "on-failure": "skipped: if: failure() is false",
      announce: "skipped: needs 'smoke' skipped",
    });
  });

  it("skips a job when one of several needs is skipped", () => {
    const p = plan(["jobs:", "  a: {steps: [{run: x}]}", "  b: {if: false, steps: [{run: x}]}", "  c: {needs: [a, b], steps: [{run: x}]}"]);
    expect(job(p, "c")).toMatchObject({ state: "skipped", skipReason: "needs 'b' skipped" });
  });

  it("leaves a status condition for run time while some needs may still run", () => {
    const p = plan(["jobs:", "  a: {steps: [{run: x}]}", "  b: {if: false, steps: [{run: x}]}", "  c: {needs: [a, b], if: failure(), steps: [{run: x}]}"]);
    expect(job(p, "c").state).toBe("pending");
  });

  it("does not skip dependents of a matrix that still has combinations to run", () => {
    const p = plan([
      "jobs:",
      "  test:",
      "    matrix: {os: [linux, mac]}",
      "    if: matrix.os == 'linux'",
      "    steps: [{run: x}]",
      "  deploy:",
      "    needs: test",
      "    steps: [{run: x}]",
    ]);
    expect(states(p)).toEqual({ "test-os-linux": "pending", "test-os-mac": "skipped: if: matrix.os == 'linux' is false", deploy: "pending" });
  });

  it("skips dependents of a matrix whose every combination is skipped", () => {
    const p = plan(["jobs:", "  test:", "    matrix: {os: [linux, mac]}", "    if: branch == 'x'", "    steps: [{run: x}]", "  deploy:", "    needs: test", "    steps: [{run: x}]"]);
    expect(job(p, "deploy")).toMatchObject({ state: "skipped", skipReason: "needs 'test' skipped" });
  });
});

describe("--job selection", () => {
  const file = [
    "jobs:",
    "  lint: {steps: [{run: x}]}",
    "  build: {needs: lint, steps: [{run: x}]}",
    "  test:",
    "    needs: build",
    "    matrix: {node: [18, 20]}",
    "    steps: [{run: x}]",
    "  docs: {steps: [{run: x}]}",
    "  deploy: {needs: test, steps: [{run: x}]}",
  ];

  it("keeps the named job and everything it needs, transitively", () => {
    expect(states(plan(file, PUSH_MAIN, { onlyJobs: ["deploy"] }))).toEqual({
      lint: "pending",
      docs: "skipped: not selected (--job)",
      build: "pending",
      "test-node-18": "pending",
      "test-node-20": "pending",
      deploy: "pending",
    });
  });

  it("selects one matrix combination by its display name or key", () => {
    for (const name of ["test (node: 20)", "test-node-20"]) {
      const p = plan(file, PUSH_MAIN, { onlyJobs: [name] });
      expect(job(p, "test-node-20").state).toBe("pending");
      expect(job(p, "test-node-18")).toMatchObject({ state: "skipped", skipReason: "not selected (--job)" });
      expect(job(p, "build").state).toBe("pending");
      expect(job(p, "deploy").skipReason).toBe("not selected (--job)");
    }
  });

  it("selects every combination by the job id", () => {
    const p = plan(file, PUSH_MAIN, { onlyJobs: ["test", "docs"] });
    expect(p.jobs.filter((j) => j.state === "pending").map((j) => j.key)).toEqual(["lint", "docs", "build", "test-node-18", "test-node-20"]);
  });

  it("reports names that match no job", () => {
    expect(problems(file, PUSH_MAIN, { onlyJobs: ["docs", "deplyo", "test (node: 16)"] })).toEqual([
      { path: "jobs", message: "no job named 'deplyo'" },
      { path: "jobs", message: "no job named 'test (node: 16)'" },
    ]);
  });

  it("keeps a job skipped by its condition skipped for its own reason", () => {
    const p = plan(["jobs:", "  a: {if: false, steps: [{run: x}]}", "  b: {needs: a, steps: [{run: x}]}"], PUSH_MAIN, { onlyJobs: ["b"] });
    expect(states(p)).toEqual({ a: "skipped: if: false is false", b: "skipped: needs 'a' skipped" });
  });
});

describe("matrix", () => {
  const file = [
    "jobs:",
    "  build:",
    "    artifacts: dist",
    "    steps: [{run: x}]",
    "  lint: {steps: [{run: x}]}",
    "  test:",
    "    needs: [build, lint]",
    "    matrix:",
    "      node: [18, 20]",
    "      os: [linux, mac]",
    "      exclude: [{node: 18, os: mac}]",
    "      include: [{node: 20, experimental: true}, {node: 22, os: linux}]",
    "      max-parallel: 2",
    "      fail-fast: true",
    "    artifacts: [coverage]",
    "    steps: [{run: 'test ${{ matrix.node }}'}]",
    "  report:",
    "    needs: test",
    "    steps: [{run: x}]",
  ];

  it("expands into one job per combination with names and keys", () => {
    const tests = plan(file).jobs.filter((j) => j.jobId === "test");
    expect(tests.map((j) => [j.key, j.name, j.matrix])).toEqual([
      ["test-node-18-os-linux", "test (node: 18, os: linux)", { node: 18, os: "linux" }],
      ["test-node-20-os-linux", "test (node: 20, os: linux)", { node: 20, os: "linux", experimental: true }],
      ["test-node-20-os-mac", "test (node: 20, os: mac)", { node: 20, os: "mac", experimental: true }],
      ["test-node-22-os-linux", "test (node: 22, os: linux)", { node: 22, os: "linux" }],
    ]);
    for (const j of tests) expect(j.matrixGroup).toEqual({ maxParallel: 2, failFast: true });
  });

  it("makes every combination wait for all needs and a dependent wait for every combination", () => {
    const p = plan(file);
    expect(job(p, "test-node-18-os-linux").needs).toEqual(["build", "lint"]);
    expect(job(p, "test-node-18-os-linux").needsJobIds).toEqual(["build", "lint"]);
    expect(job(p, "report").needs).toEqual(["test-node-18-os-linux", "test-node-20-os-linux", "test-node-20-os-mac", "test-node-22-os-linux"]);
    expect(job(p, "report").needsJobIds).toEqual(["test"]);
  });

  it("hands artifacts only from needed jobs that declare them", () => {
    const p = plan(file);
    expect(job(p, "test-node-18-os-linux").artifactsFrom).toEqual(["build"]);
    expect(job(p, "report").artifactsFrom).toEqual(["test-node-18-os-linux", "test-node-20-os-linux", "test-node-20-os-mac", "test-node-22-os-linux"]);
    expect(job(p, "build").artifactsFrom).toEqual([]);
  });

  it("gives a job without a matrix no matrix fields", () => {
    const build = job(plan(file), "build");
    expect(build).not.toHaveProperty("matrix");
    expect(build).not.toHaveProperty("matrixGroup");
    expect(build.name).toBe("build");
  });

  it("renders a job name template per combination", () => {
    const p = plan(["jobs:", "  test:", "    name: Node ${{ matrix.node }}", "    matrix: {node: [18, 20]}", "    steps: [{run: x}]"]);
    expect(p.jobs.map((j) => [j.key, j.name])).toEqual([
      ["test-node-18", "Node 18"],
      ["test-node-20", "Node 20"],
    ]);
  });

  it("keeps keys unique when values slug alike", () => {
    const p = plan(["jobs:", "  t:", "    matrix: {v: ['1.0', '1-0', '1 0']}", "    steps: [{run: x}]"]);
    expect(p.jobs.map((j) => j.key)).toEqual(["t-v-1-0", "t-v-1-0-2", "t-v-1-0-3"]);
    expect(new Set(p.jobs.map((j) => j.name)).size).toBe(3);
  });

  it("keeps keys unique against other job ids", () => {
    const p = plan(["jobs:", "  t:", "    matrix: {n: [1]}", "    steps: [{run: x}]", "  t-n-1: {steps: [{run: x}]}"]);
    expect(p.jobs.map((j) => j.key).sort()).toEqual(["t-n-1", "t-n-1-2"]);
  });

  it("reports a matrix over the limit at its path", () => {
    const values = `[${Array.from({ length: 17 }, (_, i) => i).join(", ")}]`;
    expect(problems(["jobs:", "  big:", `    matrix: {a: ${values}, b: ${values}}`, "    steps: [{run: x}]"])).toEqual([
      { path: "jobs.big.matrix", message: "the matrix expands to 289 jobs; at most 256 are allowed" },
    ]);
  });

  it("reports a matrix that excludes everything, and every such job", () => {
    expect(
      problems([
        "jobs:",
        "  a: {matrix: {n: [1]}, steps: [{run: x}]}",
        "  b:",
        "    matrix: {n: [1, 2], exclude: [{n: 1}, {n: 2}]}",
        "    steps: [{run: x}]",
        "  c:",
        "    matrix: {n: [1], exclude: [{n: 1}]}",
        "    steps: [{run: x}]",
      ]),
    ).toEqual([
      { path: "jobs.b.matrix", message: "the matrix expands to no jobs (every combination is excluded)" },
      { path: "jobs.c.matrix", message: "the matrix expands to no jobs (every combination is excluded)" },
    ]);
  });
});

describe("cache", () => {
  it("splits the key into text and hashFiles() parts for the executor", () => {
    const p = plan([
      "jobs:",
      "  build:",
      "    matrix: {node: [20]}",
      "    cache:",
      "      key: deps-${{ matrix.node }}-${{ hashFiles('package-lock.json', '**/yarn.lock') }}",
      "      paths: [node_modules, ~/.npm]",
      "      restore-keys: ['deps-${{ matrix.node }}-', deps-]",
      "    steps: [{run: x}]",
    ]);
    expect(job(p, "build-node-20").cache).toEqual({
      key: ["deps-", "20", "-", { hashFiles: ["package-lock.json", "**/yarn.lock"] }],
      paths: ["node_modules", "~/.npm"],
      restoreKeys: ["deps-20-", "deps-"],
    });
  });

  it("evaluates hashFiles arguments that are expressions", () => {
    const p = plan(["jobs:", "  build:", "    cache:", "      key: ${{ hashFiles(format('{0}/lock.json', branch)) }}", "      paths: x", "    steps: [{run: x}]"]);
    expect(job(p, "build").cache!.key).toEqual([{ hashFiles: ["main/lock.json"] }]);
  });

  it("keeps a key without expressions as one part", () => {
    const p = plan(["jobs:", "  build:", "    cache: {key: static, paths: x}", "    steps: [{run: x}]"]);
    expect(job(p, "build").cache!.key).toEqual(["static"]);
  });
});

describe("job fields", () => {
  it("passes limits, retry, resources and secrets through", () => {
    const p = plan([
      "jobs:",
      "  a:",
      "    timeout: 15m",
      "    retry: {count: 2, exit-codes: [137]}",
      "    resources: {cpu: 500m, memory: 1Gi}",
      "    secrets: [NPM_TOKEN]",
      "    artifacts: {paths: dist, expire-in: 1d}",
      "    steps: [{run: x}]",
    ]);
    expect(job(p, "a")).toMatchObject({
      timeoutMs: 900_000,
      retry: { count: 2, exitCodes: [137] },
      resources: { cpu: "500m", memory: "1Gi" },
      secrets: ["NPM_TOKEN"],
      artifacts: { paths: ["dist"], expireInMs: 86_400_000 },
    });
  });
});

describe("dependency order", () => {
  it("puts every job after the jobs it needs, keeping file order among ready jobs", () => {
    const p = plan([
      "jobs:",
      "  deploy: {needs: [test, docs], steps: [{run: x}]}",
      "  test: {needs: build, steps: [{run: x}]}",
      "  docs: {steps: [{run: x}]}",
      "  build: {steps: [{run: x}]}",
      "  lint: {steps: [{run: x}]}",
    ]);
    expect(p.jobs.map((j) => j.key)).toEqual(["docs", "build", "lint", "test", "deploy"]);
  });

  it("orders matrix combinations like their job", () => {
    const p = plan(["jobs:", "  b: {needs: a, matrix: {n: [1, 2]}, steps: [{run: x}]}", "  a: {matrix: {n: [1, 2]}, steps: [{run: x}]}"]);
    expect(p.jobs.map((j) => j.key)).toEqual(["a-n-1", "a-n-2", "b-n-1", "b-n-2"]);
  });
});

describe("release", () => {
  const jobs = [
    "jobs:",
    "  build:",
    "    artifacts: dist",
    "    steps: [{run: x}]",
    "  test:",
    "    matrix: {node: [18, 20]}",
    "    steps: [{run: x}]",
    "  docs:",
    "    if: branch == 'docs'",
    "    steps: [{run: x}]",
  ];
  const target = ["  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080}"];

  it("plans the release after the jobs it needs", () => {
    const p = plan([...jobs, "release:", "  needs: [build, test]", ...target]);
    expect(p.release).toMatchObject({ needs: ["build", "test-node-18", "test-node-20"], needsJobIds: ["build", "test"], state: "pending", condition: { usesStatus: false } });
    expect(p.release!.def.target.type).toBe("local");
    expect(p.release!.variables).toMatchObject({ branch: "main", env: {} });
  });

  it("skips the release when a job it needs will not run", () => {
    const p = plan([...jobs, "release:", ...target]);
    expect(p.release!.needsJobIds).toEqual(["build", "test", "docs"]);
    expect(p.release).toMatchObject({ state: "skipped", skipReason: "needs 'docs', which will not run" });
  });

  it("skips the release when its if is false now", () => {
    const p = plan([...jobs, "release:", "  needs: build", "  if: tag != null", ...target]);
    expect(p.release).toMatchObject({ state: "skipped", skipReason: "if: tag != null is false" });
  });

  it("leaves a release with a status condition for run time", () => {
    const p = plan([...jobs, "release:", "  if: always()", ...target]);
    expect(p.release).toMatchObject({ state: "pending", condition: { source: "always()", usesStatus: true } });
  });

  it("skips the release when a needed job is not selected", () => {
    const p = plan([...jobs, "release:", "  needs: [build, test]", ...target], PUSH_MAIN, { onlyJobs: ["build"] });
    expect(p.release).toMatchObject({ state: "skipped", skipReason: "needs 'test', which will not run" });
  });

  it("does not skip the release for a matrix combination skipped by its own if", () => {
    const p = plan([
      "jobs:",
      "  build:",
      "    matrix: {os: [linux, mac]}",
      "    if: matrix.os == 'linux'",
      "    artifacts: dist",
      "    steps: [{run: x}]",
      "release:",
      ...target,
    ]);
    expect(p.release!.state).toBe("pending");
  });
});
