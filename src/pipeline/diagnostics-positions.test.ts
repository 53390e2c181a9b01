// Every kind of problem in a pipeline file, with the exact line and column it is reported at
// (expressions, the job graph, triggers and the release section have files of their own).
import { describe, expect, it } from "vitest";
import { parsePipeline } from "./parse";
import { diagnosticAt, diagnosticsOf, JOB, where } from "./test-helpers";

describe("YAML-level problems", () => {
  it("reports a YAML syntax error at its position, with no field path", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: [echo", "  test:"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]).toMatchObject({ file: ".gust.yml", path: "" });
    expect(diagnostics[0]!.message).toMatch(/^YAML: /);
    expect(diagnostics[0]!.message).not.toMatch(/at line \d+/);
    expect(diagnostics[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it("reports a tab used for indentation where it is written", () => {
    const lines = ["jobs:", "  build:", "\tsteps: []"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics[0]).toMatchObject({ line: 3, hint: "indent with spaces; YAML does not allow tabs for indentation" });
    expect(diagnostics[0]!.message).toMatch(/^YAML: /);
  });

  it("suggests quoting a value that contains ': '", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo time: now"];
    const [d] = diagnosticsOf(lines);
    expect(d).toMatchObject({ line: 4, path: "" });
    expect(d!.hint).toMatch(/^quote a value/);
  });

  it("reports a duplicate key at the second occurrence", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: a", "    steps:", "      - run: b"];
    const [d, ...rest] = diagnosticsOf(lines);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ ...where(lines, 5, "steps"), path: "", hint: "a key may appear once per map; merge the two entries or rename one" });
    expect(d!.message).toMatch(/unique/);
  });

  it("reports a duplicate job id", () => {
    const lines = ["jobs:", ...JOB, ...JOB];
    const [d] = diagnosticsOf(lines);
    expect(d).toMatchObject(where(lines, 5, "build"));
  });

  it("reports an empty file at 1:1 with a hint", () => {
    const result = parsePipeline("", ".gust.yml");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostics).toEqual([{ file: ".gust.yml", line: 1, column: 1, path: "", message: "the pipeline file is empty", hint: "start with jobs:" }]);
  });

  it("treats a file of only comments as empty", () => {
    const result = parsePipeline("# nothing yet\n# really\n", ".gust/ci.yml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]).toMatchObject({ file: ".gust/ci.yml", message: "the pipeline file is empty" });
  });

  it("reports a top-level list as the wrong type at 1:1", () => {
    expect(diagnosticsOf(["- build", "- test"])).toEqual([{ hint: "a pipeline file is a map: start with jobs:", file: ".gust.yml", line: 1, column: 1, path: "", message: "expected a map, got a list" }]);
  });
});

describe("unknown keys", () => {
  it("suggests the closest top-level key and points at the key", () => {
    const lines = ["nmae: ci", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "nmae")).toMatchObject({ line: 1, column: 1, message: "unknown key 'nmae'", hint: "did you mean 'name'?" });
  });

  it("suggests at job level", () => {
    const lines = ["jobs:", "  build:", "    neds: [x]", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.neds")).toMatchObject({ ...where(lines, 3, "neds"), message: "unknown key 'neds'", hint: "did you mean 'needs'?" });
  });

  it("suggests at step level", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        timout: 5m"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].timout")).toMatchObject({ ...where(lines, 5, "timout"), hint: "did you mean 'timeout'?" });
  });

  it("suggests inside a trigger", () => {
    const lines = ["on:", "  push:", "    branchs: [main]", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.push.branchs")).toMatchObject({ ...where(lines, 3, "branchs"), hint: "did you mean 'branches'?" });
  });

  it("suggests inside a nested object (retry.exit-code)", () => {
    const lines = ["jobs:", "  build:", "    retry: {count: 2, exit-code: [1]}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.retry.exit-code")).toMatchObject({ ...where(lines, 3, "exit-code"), hint: "did you mean 'exit-codes'?" });
  });

  it("suggests inside the release target", () => {
    const lines = ["jobs:", ...JOB, "release:", "  target:", "    type: sae", "    region: cn-hangzhou", "    app-id: a1", "    image: x", "    min-ready-instance: 1"];
    expect(diagnosticAt(lines, "release.target.min-ready-instance")).toMatchObject({ ...where(lines, 11, "min-ready-instance"), hint: "did you mean 'min-ready-instances'?" });
  });

  it("lists only the keys of the release target type that was named", () => {
    const lines = ["jobs:", ...JOB, "release:", "  target:", "    type: sae", "    region: cn-hangzhou", "    app-id: a1", "    image: x", "    replicas: 2"];
    expect(diagnosticAt(lines, "release.target.replicas").hint).toBe("valid keys: type, region, app-id, image, package-url, package-version, min-ready-instances, ab-gateway");
  });

  it("lists the valid keys when nothing is close", () => {
    const lines = ["jobs:", "  build:", "    runs-on: ubuntu", "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.runs-on");
    expect(d).toMatchObject(where(lines, 3, "runs-on"));
    expect(d.hint).toMatch(/^valid keys: name, image, needs, if, /);
    expect(d.hint).toContain("steps");
  });

  it("reports each unknown key of one object", () => {
    const lines = ["jobs:", "  build:", "    imgae: x", "    stesp: []", "    steps:", "      - run: make"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.line, d.path, d.hint])).toEqual([
      [3, "jobs.build.imgae", "did you mean 'image'?"],
      [4, "jobs.build.stesp", "did you mean 'steps'?"],
    ]);
  });
});

describe("wrong types and missing fields", () => {
  it("names the expected and the actual type, at the value", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", '        continue-on-error: "yes"'];
    expect(diagnosticAt(lines, "jobs.build.steps[0].continue-on-error")).toMatchObject({
      ...where(lines, 5, '"yes"'),
      message: "expected true or false, got the string 'yes'",
    });
  });

  it("reports a number where a list is expected", () => {
    const lines = ["jobs:", "  build:", "    steps: 3"];
    expect(diagnosticAt(lines, "jobs.build.steps")).toMatchObject({ ...where(lines, 3, "3"), message: "expected a list, got the number 3" });
  });

  it("reports jobs: with no value", () => {
    const lines = ["jobs:"];
    expect(diagnosticAt(lines, "jobs")).toMatchObject({ line: 1, column: 1, message: "expected a map, got null" });
  });

  it("points at the key of a job with no value", () => {
    const lines = ["jobs:", ...JOB, "  test:"];
    expect(diagnosticAt(lines, "jobs.test")).toMatchObject({ ...where(lines, 5, "test"), message: "expected a map, got null" });
  });

  it("lists every form of a nested union", () => {
    const lines = ["jobs:", "  build:", "    artifacts: 5", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.artifacts")).toMatchObject({ ...where(lines, 3, "5"), message: "expected a string or a list or a map, got the number 5" });
  });

  it("reports a missing required field at the object that lacks it", () => {
    const lines = ["jobs:", "  build:", "    image: node:20"];
    expect(diagnosticAt(lines, "jobs.build.steps")).toMatchObject({ ...where(lines, 3, "image"), message: "missing required field 'steps'", hint: "add steps:" });
  });

  it("reports a missing jobs section", () => {
    expect(diagnosticAt(["name: ci"], "jobs")).toMatchObject({ line: 1, column: 1, message: "missing required field 'jobs'" });
  });

  it("reports a step without run", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - name: compile"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject({ ...where(lines, 4, "name"), message: "missing required field 'run'" });
  });

  it("reports an empty run", () => {
    const lines = ["jobs:", "  build:", "    steps:", '      - run: ""'];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject({ ...where(lines, 4, '""'), message: "must not be empty" });
  });

  it("reports empty steps", () => {
    const lines = ["jobs:", "  build:", "    steps: []"];
    expect(diagnosticAt(lines, "jobs.build.steps")).toMatchObject({ ...where(lines, 3, "[]"), message: "a job needs at least one step" });
  });

  it("reports an empty jobs map", () => {
    const lines = ["jobs: {}"];
    expect(diagnosticAt(lines, "jobs")).toMatchObject({ ...where(lines, 1, "{}"), message: "a pipeline needs at least one job" });
  });

  it("reports a job id that is not a name", () => {
    const lines = ["jobs:", "  my job:", "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, 'jobs["my job"]');
    expect(d).toMatchObject(where(lines, 2, "my job"));
    expect(d.message).toMatch(/^invalid key 'my job': expected a name of letters/);
  });

  it("reports a bad environment variable name at the key", () => {
    const lines = ["env:", "  MY-VAR: 1", "jobs:", ...JOB];
    const d = diagnosticAt(lines, "env.MY-VAR");
    expect(d).toMatchObject(where(lines, 2, "MY-VAR"));
    expect(d.message).toContain("environment variable names are letters, digits and '_'");
  });

  it("reports a matrix axis that is not a list", () => {
    const lines = ["jobs:", "  test:", "    matrix:", "      node: 20", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.test.matrix.node")).toMatchObject({ ...where(lines, 4, "20"), message: "expected a list, got the number 20" });
  });

  it("reports an empty matrix axis", () => {
    const lines = ["jobs:", "  test:", "    matrix:", "      node: []", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.test.matrix.node")).toMatchObject({ ...where(lines, 4, "[]"), message: "a matrix axis needs at least one value" });
  });

  it("reports a number out of range with its limit", () => {
    const lines = ["jobs:", "  build:", "    retry: 11", "    services:", "      db: {image: postgres, ports: [70000]}", "    steps:", "      - run: make"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["jobs.build.retry", ...Object.values(where(lines, 3, "11")), "must be at most 10"],
      ["jobs.build.services.db.ports[0]", ...Object.values(where(lines, 5, "70000")), "must be at most 65535"],
    ]);
  });

  it("reports bad resources with the expected form", () => {
    const lines = ["jobs:", "  build:", "    resources: {cpu: lots, memory: 4GB}", "    steps:", "      - run: make"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.column, d.message])).toEqual([
      ["jobs.build.resources.cpu", where(lines, 3, "lots").column, "expected cores such as 2, 0.5 or 500m"],
      ["jobs.build.resources.memory", where(lines, 3, "4GB").column, "expected a size such as 512Mi or 4Gi"],
    ]);
  });

  it("reports a secret name that is not an env var name", () => {
    const lines = ["jobs:", "  build:", "    secrets: [NPM_TOKEN, npm-token]", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.secrets[1]")).toMatchObject(where(lines, 3, "npm-token"));
  });
});

describe("durations", () => {
  it("reports a duration without units at the value", () => {
    const lines = ["jobs:", "  build:", "    timeout: 5 minutes", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.timeout")).toMatchObject({ ...where(lines, 3, "5 minutes"), message: "expected a duration such as 90s, 5m or 1h30m" });
  });

  it("reports a bare number as a duration", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        timeout: 90"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].timeout")).toMatchObject({ ...where(lines, 5, "90"), message: "expected a string, got the number 90" });
  });

  it("reports a bad artifact expiry and a bad pause", () => {
    const lines = [
      "jobs:",
      "  build:",
      "    artifacts: {paths: [dist], expire-in: 1week}",
      "    steps:",
      "      - run: make",
      "release:",
      "  artifact: {from: build}",
      "  target: {type: local, command: node ., port: 8080}",
      "  strategy:",
      "    steps:",
      "      - pause: 5x",
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column])).toEqual([
      ["jobs.build.artifacts.expire-in", 3, where(lines, 3, "1week").column],
      ["release.strategy.steps[0].pause", 11, where(lines, 11, "5x").column],
    ]);
  });
});

describe("enums and discriminators", () => {
  it("suggests the closest enum value", () => {
    const lines = ["on:", "  manual:", "    inputs:", "      level:", "        type: choise", "        options: [a]", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.manual.inputs.level.type")).toMatchObject({ ...where(lines, 5, "choise"), message: "'choise' is not allowed here", hint: "did you mean 'choice'?" });
  });

  it("lists the enum values when nothing is close", () => {
    const lines = ["jobs:", ...JOB, "release:", "  rollback: never", "  artifact: {from: build}", "  target: {type: local, command: x, port: 1}"];
    expect(diagnosticAt(lines, "release.rollback")).toMatchObject({ ...where(lines, 6, "never"), hint: "expected one of: auto, manual" });
  });

  it("suggests the event name in on: shorthand", () => {
    const lines = ["on: pul_request", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on")).toMatchObject({ ...where(lines, 1, "pul_request"), message: "'pul_request' is not allowed here", hint: "did you mean 'pull_request'?" });
  });

  it("suggests the event name inside an on: list", () => {
    const lines = ["on: [push, manaul]", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on[1]")).toMatchObject({ ...where(lines, 1, "manaul"), hint: "did you mean 'manual'?" });
  });

  it("says a map in the on: list is not an event name, without quoting it", () => {
    const lines = ["on: [push, {pull_request: {branches: [main]}}]", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on[1]")).toMatchObject({
      ...where(lines, 1, "{pull"),
      message: "expected one of push, pull_request, merge_request, tag, manual, got a map",
    });
  });

  it("does not offer schedule as a shorthand (it needs a cron)", () => {
    const lines = ["on: schedule", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on").hint).toBe("expected one of: push, pull_request, merge_request, tag, manual");
  });

  it("reports an unknown release target type with the valid ones", () => {
    const lines = ["jobs:", ...JOB, "release:", "  target:", "    type: lambda", "    region: x"];
    expect(diagnosticAt(lines, "release.target.type")).toMatchObject({ ...where(lines, 7, "lambda"), message: "unknown type 'lambda'", hint: "expected one of: fc, sae, local" });
  });

  it("suggests a close release target type", () => {
    const lines = ["jobs:", ...JOB, "release:", "  target:", "    type: sea", "    region: x"];
    expect(diagnosticAt(lines, "release.target.type").hint).toBe("did you mean 'sae'?");
  });

  it("reports a missing discriminator", () => {
    const lines = ["jobs:", ...JOB, "release:", "  target:", "    region: x"];
    expect(diagnosticAt(lines, "release.target.type")).toMatchObject({ ...where(lines, 7, "region"), message: "missing 'type'" });
  });
});

describe("a map given where a shorthand is also allowed", () => {
  // The union of `on: push`, `on: [push]` and the map must report what is wrong inside the map,
  // not that a map is not one of the event names.
  it("reports the problems inside the on: map", () => {
    const lines = ["on:", "  push:", "    branchs: main", "  pull_request:", "    types: [open]", "jobs:", ...JOB];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.hint])).toEqual([
      ["on.push.branchs", 3, 5, "did you mean 'branches'?"],
      ["on.pull_request.types[0]", 5, where(lines, 5, "open").column, "did you mean 'opened'?"],
    ]);
    expect(diagnostics.some((d) => d.message.includes("[object Object]"))).toBe(false);
  });

  it("reports the problem inside a retry map", () => {
    const lines = ["jobs:", "  build:", "    retry: {count: 20}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.retry.count")).toMatchObject({ ...where(lines, 3, "20"), message: "must be at most 10" });
  });

  it("says which forms are allowed when no form fits", () => {
    const lines = ["jobs:", "  build:", "    retry: often", "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.retry");
    expect(d).toMatchObject(where(lines, 3, "often"));
    expect(d.message).toBe("expected a number or a map, got the string 'often'");
  });
});

describe("all problems of a file at once", () => {
  it("reports schema, expression and graph problems together, sorted by position", () => {
    const lines = [
      "on:",
      "  push:",
      "    branchs: main", // 3
      "jobs:",
      "  build:",
      "    needs: [test]", // 6: cycle
      "    timeout: soon", // 7
      "    steps:",
      "      - run: echo ${{ brnch }}", // 9
      "  test:",
      "    needs: [build, lint]", // 11: cycle closes at build, lint unknown
      "    if: needs.deploy.result == 'success'", // 12
      "    steps: []", // 13
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => `${d.line}:${d.column} ${d.path} ${d.message}`)).toEqual([
      `3:5 on.push.branchs unknown key 'branchs'`,
      `7:${where(lines, 7, "soon").column} jobs.build.timeout expected a duration such as 90s, 5m or 1h30m`,
      `9:${where(lines, 9, "brnch").column} jobs.build.steps[0].run unknown name 'brnch'`,
      `11:${where(lines, 11, "build").column} jobs.test.needs[0] needs cycle: build → test → build`,
      `11:${where(lines, 11, "lint").column} jobs.test.needs[1] unknown job 'lint' in needs`,
      `12:${where(lines, 12, "needs").column} jobs.test.if 'needs.deploy' refers to a job this one does not need`,
      `13:${where(lines, 13, "[]").column} jobs.test.steps a job needs at least one step`,
    ]);
    for (const d of diagnostics) expect(d.file).toBe(".gust.yml");
  });

  it("names the file it was given", () => {
    const result = parsePipeline("jobs:\n  build:\n    steps: []\n", ".gust/deploy.yml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostics[0]!.file).toBe(".gust/deploy.yml");
  });
});
