// The canonical model: shorthands expanded, defaults filled in, durations in milliseconds.
import { describe, expect, it } from "vitest";
import { DEFAULT_ARTIFACT_EXPIRY_MS, DEFAULT_JOB_TIMEOUT_MS, DEFAULT_PROGRESS_DEADLINE_MS } from "./model";
import { parseThreshold } from "./normalize";
import { JOB, parseOk } from "./test-helpers";

const ALL_REVIEW_TYPES = ["opened", "synchronize", "reopened"];

describe("triggers", () => {
  it("defaults to push, pull_request, merge_request and manual when on is missing", () => {
    const { triggers } = parseOk(["jobs:", ...JOB]);
    expect(triggers).toEqual({
      push: { branches: {}, tags: {}, onBranches: true, onTags: true },
      pullRequest: { branches: {}, types: ALL_REVIEW_TYPES },
      mergeRequest: { branches: {}, types: ALL_REVIEW_TYPES },
      manual: { inputs: {} },
      schedule: [],
    });
  });

  it("expands on: push to a push trigger only", () => {
    const { triggers } = parseOk(["on: push", "jobs:", ...JOB]);
    expect(triggers).toEqual({ push: { branches: {}, tags: {}, onBranches: true, onTags: true }, schedule: [] });
  });

  it("expands on: [push, manual]", () => {
    const { triggers } = parseOk(["on: [push, manual]", "jobs:", ...JOB]);
    expect(Object.keys(triggers).sort()).toEqual(["manual", "push", "schedule"]);
    expect(triggers.manual).toEqual({ inputs: {} });
  });

  it("expands on: tag to a tag trigger that takes any tag", () => {
    expect(parseOk(["on: tag", "jobs:", ...JOB]).triggers).toEqual({ tag: {}, schedule: [] });
  });

  it("accepts an empty push: key as push with no filters", () => {
    const { triggers } = parseOk(["on:", "  push:", "jobs:", ...JOB]);
    expect(triggers.push).toEqual({ branches: {}, tags: {}, onBranches: true, onTags: true });
    expect(triggers.pullRequest).toBeUndefined();
  });

  it("turns single globs into lists and keeps both include and exclude", () => {
    const { triggers } = parseOk(["on:", "  push:", "    branches: main", "    branches-ignore: [wip/*]", "    paths: src/**", "    paths-ignore: ['**/*.md']", "jobs:", ...JOB]);
    expect(triggers.push).toEqual({
      branches: { include: ["main"], exclude: ["wip/*"] },
      tags: {},
      onBranches: true,
      onTags: false,
      paths: ["src/**"],
      pathsIgnore: ["**/*.md"],
    });
  });

  it("makes on.push with only tags ignore branch pushes", () => {
    const { triggers } = parseOk(["on:", "  push:", "    tags: ['v*']", "jobs:", ...JOB]);
    expect(triggers.push).toMatchObject({ tags: { include: ["v*"] }, onBranches: false, onTags: true });
  });

  it("makes on.push with only tags-ignore ignore branch pushes too", () => {
    const { triggers } = parseOk(["on:", "  push:", "    tags-ignore: ['nightly-*']", "jobs:", ...JOB]);
    expect(triggers.push).toMatchObject({ tags: { exclude: ["nightly-*"] }, onBranches: false, onTags: true });
  });

  it("keeps both kinds of ref when branches and tags are both given", () => {
    const { triggers } = parseOk(["on:", "  push:", "    branches: [main]", "    tags: ['v*']", "jobs:", ...JOB]);
    expect(triggers.push).toMatchObject({ onBranches: true, onTags: true });
  });

  it("normalizes review triggers with types and target branches", () => {
    const { triggers } = parseOk(["on:", "  pull_request:", "    branches: [main]", "    types: [opened]", "  merge_request:", "jobs:", ...JOB]);
    expect(triggers.pullRequest).toEqual({ branches: { include: ["main"] }, types: ["opened"] });
    expect(triggers.mergeRequest).toEqual({ branches: {}, types: ALL_REVIEW_TYPES });
  });

  it("accepts the tag trigger as a glob, a list or a map", () => {
    expect(parseOk(["on:", "  tag: 'v*'", "jobs:", ...JOB]).triggers.tag).toEqual({ include: ["v*"] });
    expect(parseOk(["on:", "  tag: ['v*', 'release-*']", "jobs:", ...JOB]).triggers.tag).toEqual({ include: ["v*", "release-*"] });
    expect(parseOk(["on:", "  tag: {tags: 'v*', tags-ignore: '*-rc*'}", "jobs:", ...JOB]).triggers.tag).toEqual({ include: ["v*"], exclude: ["*-rc*"] });
  });

  it("normalizes manual inputs with their defaults", () => {
    const { triggers } = parseOk([
      "on:",
      "  manual:",
      "    inputs:",
      "      target: {type: choice, options: [staging, production], default: staging, description: where}",
      "      dry-run: {type: boolean}",
      "      note: {}",
      "      count: {type: number, required: true}",
      "jobs:",
      ...JOB,
    ]);
    expect(triggers.manual!.inputs).toEqual({
      target: { type: "choice", required: false, description: "where", default: "staging", options: ["staging", "production"] },
      "dry-run": { type: "boolean", required: false },
      note: { type: "string", required: false },
      count: { type: "number", required: true },
    });
  });

  it("defaults a schedule's time zone to UTC and keeps its branch", () => {
    const { triggers } = parseOk(["on:", "  schedule:", "    - cron: '0 3 * * *'", "    - cron: '0 4 * * 1'", "      timezone: Europe/Berlin", "      branch: develop", "jobs:", ...JOB]);
    expect(triggers.schedule).toEqual([
      { cron: "0 3 * * *", timezone: "UTC" },
      { cron: "0 4 * * 1", timezone: "Europe/Berlin", branch: "develop" },
    ]);
  });
});

describe("pipeline", () => {
  it("names the pipeline after the file's fallback unless name is given", () => {
    expect(parseOk(["jobs:", ...JOB]).name).toBe("pipeline");
    expect(parseOk(["jobs:", ...JOB], ".gust/deploy.yml").name).toBe("deploy");
    expect(parseOk(["name: CI", "jobs:", ...JOB], ".gust/deploy.yml").name).toBe("CI");
  });

  it("keeps the file and turns env values into strings", () => {
    const pipeline = parseOk(["env:", "  DEBUG: true", "  PORT: 8080", "  NAME: app", "jobs:", ...JOB], ".gust/ci.yml");
    expect(pipeline.file).toBe(".gust/ci.yml");
    expect(pipeline.env).toEqual({ DEBUG: "true", PORT: "8080", NAME: "app" });
  });

  it("expands concurrency as a string or an object", () => {
    expect(parseOk(["concurrency: deploy", "jobs:", ...JOB]).concurrency).toEqual({ group: "deploy", cancelInProgress: false });
    expect(parseOk(["concurrency: {group: 'ci-${{ branch }}', cancel-in-progress: true}", "jobs:", ...JOB]).concurrency).toEqual({ group: "ci-${{ branch }}", cancelInProgress: true });
    expect(parseOk(["jobs:", ...JOB]).concurrency).toBeUndefined();
  });

  it("keeps jobs in file order", () => {
    const pipeline = parseOk(["jobs:", "  zeta: {steps: [{run: z}]}", "  alpha: {steps: [{run: a}]}", "  mid: {steps: [{run: m}]}"]);
    expect(pipeline.jobs.map((job) => job.id)).toEqual(["zeta", "alpha", "mid"]);
  });
});

describe("jobs", () => {
  it("fills the defaults of a minimal job", () => {
    const [job] = parseOk(["jobs:", ...JOB]).jobs;
    expect(job).toEqual({
      id: "build",
      needs: [],
      env: {},
      secrets: [],
      timeoutMs: DEFAULT_JOB_TIMEOUT_MS,
      retry: { count: 0 },
      services: [],
      steps: [{ run: "make", env: {}, continueOnError: false }],
    });
  });

  it("turns a single need into a list", () => {
    const pipeline = parseOk(["jobs:", ...JOB, "  test:", "    needs: build", "    steps: [{run: t}]"]);
    expect(pipeline.jobs[1]!.needs).toEqual(["build"]);
  });

  it("accepts retry as a number or an object", () => {
    const pipeline = parseOk([
      "jobs:",
      "  a: {retry: 2, steps: [{run: x}]}",
      "  b: {retry: {count: 3, exit-codes: [137, 143]}, steps: [{run: x}]}",
      "  c: {retry: {count: 1}, steps: [{run: x}]}",
    ]);
    expect(pipeline.jobs.map((job) => job.retry)).toEqual([{ count: 2 }, { count: 3, exitCodes: [137, 143] }, { count: 1 }]);
  });

  it("accepts artifacts as a glob, a list or an object", () => {
    const pipeline = parseOk([
      "jobs:",
      "  a: {artifacts: dist, steps: [{run: x}]}",
      "  b: {artifacts: [dist, 'coverage/**'], steps: [{run: x}]}",
      "  c: {artifacts: {paths: out, expire-in: 2d}, steps: [{run: x}]}",
      "  d: {artifacts: {paths: [out]}, steps: [{run: x}]}",
    ]);
    expect(pipeline.jobs.map((job) => job.artifacts)).toEqual([
      { paths: ["dist"], expireInMs: DEFAULT_ARTIFACT_EXPIRY_MS },
      { paths: ["dist", "coverage/**"], expireInMs: DEFAULT_ARTIFACT_EXPIRY_MS },
      { paths: ["out"], expireInMs: 2 * 86_400_000 },
      { paths: ["out"], expireInMs: DEFAULT_ARTIFACT_EXPIRY_MS },
    ]);
  });

  it("accepts job concurrency as a string or an object", () => {
    const pipeline = parseOk(["jobs:", "  a: {concurrency: deploy-prod, steps: [{run: x}]}", "  b: {concurrency: {group: g, cancel-in-progress: true}, steps: [{run: x}]}"]);
    expect(pipeline.jobs.map((job) => job.concurrency)).toEqual([
      { group: "deploy-prod", cancelInProgress: false },
      { group: "g", cancelInProgress: true },
    ]);
  });

  it("converts durations to milliseconds", () => {
    const pipeline = parseOk(["jobs:", "  a:", "    timeout: 1h30m", "    steps:", "      - run: x", "        timeout: 90s", "      - run: y"]);
    const [job] = pipeline.jobs;
    expect(job!.timeoutMs).toBe(90 * 60_000);
    expect(job!.steps[0]!.timeoutMs).toBe(90_000);
    expect(job!.steps[1]).not.toHaveProperty("timeoutMs");
  });

  it("splits the matrix into axes and its settings", () => {
    const pipeline = parseOk([
      "jobs:",
      "  test:",
      "    matrix:",
      "      node: [18, 20]",
      "      os: [linux]",
      "      include: [{node: 22, os: linux}]",
      "      exclude: [{node: 18}]",
      "      max-parallel: 2",
      "      fail-fast: true",
      "    steps: [{run: x}]",
    ]);
    expect(pipeline.jobs[0]!.matrix).toEqual({
      axes: { node: [18, 20], os: ["linux"] },
      include: [{ node: 22, os: "linux" }],
      exclude: [{ node: 18 }],
      maxParallel: 2,
      failFast: true,
    });
  });

  it("fills matrix defaults", () => {
    const pipeline = parseOk(["jobs:", "  test:", "    matrix: {node: [20]}", "    steps: [{run: x}]"]);
    expect(pipeline.jobs[0]!.matrix).toEqual({ axes: { node: [20] }, include: [], exclude: [], failFast: false });
  });

  it("normalizes resources, services and cache", () => {
    const pipeline = parseOk([
      "jobs:",
      "  test:",
      "    resources: {cpu: 2, memory: 4Gi}",
      "    services:",
      "      db: {image: 'postgres:16', env: {POSTGRES_PASSWORD: x}, ports: [5432]}",
      "      cache: {image: redis, command: [redis-server, --save, '']}",
      "    cache:",
      "      key: deps-${{ hashFiles('package-lock.json') }}",
      "      paths: node_modules",
      "    steps: [{run: x}]",
    ]);
    const [job] = pipeline.jobs;
    expect(job!.resources).toEqual({ cpu: "2", memory: "4Gi" });
    expect(job!.services).toEqual([
      { name: "db", image: "postgres:16", env: { POSTGRES_PASSWORD: "x" }, ports: [5432] },
      { name: "cache", image: "redis", env: {}, ports: [], command: ["redis-server", "--save", ""] },
    ]);
    expect(job!.cache).toEqual({ key: "deps-${{ hashFiles('package-lock.json') }}", paths: ["node_modules"], restoreKeys: [] });
  });

  it("keeps step fields and string conditions as written", () => {
    const pipeline = parseOk([
      "jobs:",
      "  a:",
      "    if: ${{ branch == 'main' }}",
      "    steps:",
      "      - name: Build",
      "        run: make",
      "        if: always()",
      "        continue-on-error: true",
      "        working-directory: app",
      "        image: node:20",
      "        env: {X: 1}",
      "      - run: y",
      "        if: false",
    ]);
    const [job] = pipeline.jobs;
    expect(job!.if).toBe("${{ branch == 'main' }}");
    expect(job!.steps).toEqual([
      { name: "Build", run: "make", env: { X: "1" }, if: "always()", continueOnError: true, workingDirectory: "app", image: "node:20" },
      { run: "y", env: {}, if: false, continueOnError: false },
    ]);
  });
});

describe("release", () => {
  const jobs = ["jobs:", "  build:", "    artifacts: dist", "    steps: [{run: make}]", "  test:", "    steps: [{run: make test}]"];

  it("fills defaults: all jobs as needs, straight to 100%, auto rollback", () => {
    const { release } = parseOk([...jobs, "release:", "  artifact: {from: build, path: dist/fn.zip}", "  target: {type: fc, region: cn-hangzhou, function: hello}"]);
    expect(release).toEqual({
      needs: ["build", "test"],
      artifact: { from: "build", path: "dist/fn.zip" },
      target: { type: "fc", region: "cn-hangzhou", function: "hello", alias: "live", env: {} },
      steps: [{ kind: "weight", weight: 100 }],
      progressDeadlineMs: DEFAULT_PROGRESS_DEADLINE_MS,
      rollback: "auto",
      keepVersions: 5,
    });
  });

  it("normalizes canary steps, analysis and thresholds", () => {
    const { release } = parseOk([
      ...jobs,
      "release:",
      "  needs: build",
      "  if: branch == 'main'",
      "  artifact: {from: build}",
      "  target: {type: local, command: node app.js, port: 8080, health-path: /healthz}",
      "  strategy:",
      "    ab: {header: {name: x-canary, value: 'on'}}",
      "    steps: [{weight: 10}, {pause: 5m}, {analysis: {duration: 2m}}, {pause: {}}, {analysis: {}}, {weight: 100}]",
      "  analysis:",
      "    interval: 30s",
      "    metrics:",
      "      - {name: error-rate, max: 1%}",
      "      - {name: p99, builtin: latency-p99, max: 500ms}",
      "      - {name: rps, prometheus: {url: 'http://prom:9090', query: 'sum(rate(x[1m]))'}, min: 2}",
      "  progress-deadline: 10m",
      "  rollback: manual",
      "  keep-versions: 3",
      "  notify: {webhook: 'https://hooks.example.com/x'}",
    ]);
    expect(release).toEqual({
      needs: ["build"],
      if: "branch == 'main'",
      artifact: { from: "build" },
      target: { type: "local", command: "node app.js", port: 8080, healthPath: "/healthz", env: {} },
      steps: [
        { kind: "weight", weight: 10 },
        { kind: "pause", durationMs: 300_000 },
        { kind: "analysis", durationMs: 120_000 },
        { kind: "pause" },
        { kind: "analysis" },
        { kind: "weight", weight: 100 },
      ],
      ab: { header: { name: "x-canary", value: "on" } },
      analysis: {
        intervalMs: 30_000,
        failureLimit: 0,
        inconclusiveLimit: 2,
        minRequests: 20,
        metrics: [
          { name: "error-rate", source: { kind: "builtin", metric: "error-rate" }, max: 0.01 },
          { name: "p99", source: { kind: "builtin", metric: "latency-p99" }, max: 500 },
          { name: "rps", source: { kind: "prometheus", url: "http://prom:9090", query: "sum(rate(x[1m]))" }, min: 2 },
        ],
      },
      progressDeadlineMs: 600_000,
      rollback: "manual",
      keepVersions: 3,
      notifyWebhook: "https://hooks.example.com/x",
    });
  });

  it("normalizes a local target", () => {
    const { release } = parseOk([...jobs, "release:", "  artifact: {from: build}", "  target: {type: local, command: node server.js, port: 8080, health-path: /healthz, env: {MODE: 1}}"]);
    expect(release!.target).toEqual({ type: "local", command: "node server.js", port: 8080, healthPath: "/healthz", env: { MODE: "1" } });
  });
});

describe("parseThreshold", () => {
  it("reads percentages as ratios and latencies as milliseconds", () => {
    expect(parseThreshold("1%")).toBe(0.01);
    expect(parseThreshold("0.5%")).toBe(0.005);
    expect(parseThreshold("500ms")).toBe(500);
    expect(parseThreshold("2s")).toBe(2000);
    expect(parseThreshold("1.5s")).toBe(1500);
    expect(parseThreshold("42")).toBe(42);
    expect(parseThreshold(7)).toBe(7);
    expect(parseThreshold(undefined)).toBeUndefined();
  });
});
