// Every kind of problem in a pipeline file, with the exact line and column it is reported at.
import { describe, expect, it } from "vitest";
import { parsePipeline } from "./parse";
import { diagnosticAt, diagnosticsOf, JOB, source, where } from "./test-helpers";

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

describe("trigger filters", () => {
  it("reports a filter of only ! patterns, which would never match", () => {
    const lines = ["on:", "  push:", "    branches: ['!main', '!dev']", "    tags: ['v*', '!v0*']", "  tag: '!nightly'", "jobs:", ...JOB];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["on.push.branches", 3, where(lines, 3, "[").column, "every pattern here excludes (!), so nothing matches"],
      ["on.tag", 5, where(lines, 5, "'!").column, "every pattern here excludes (!), so nothing matches"],
    ]);
    expect(diagnostics[0]!.hint).toMatch(/-ignore/);
  });
});

describe("schedules", () => {
  it("reports a bad cron at the cron value", () => {
    const lines = ["on:", "  schedule:", '    - cron: "61 * * * *"', "jobs:", ...JOB];
    const d = diagnosticAt(lines, "on.schedule[0].cron");
    expect(d).toMatchObject(where(lines, 3, '"61'));
    expect(d.message).toMatch(/^invalid cron expression: .*minute/i);
  });

  it("reports a cron with too few fields", () => {
    const lines = ["on:", "  schedule:", "    - cron: '* *'", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.schedule[0].cron").message).toMatch(/^invalid cron expression/);
  });

  it("reports an unknown time zone with a hint", () => {
    const lines = ["on:", "  schedule:", "    - cron: '0 3 * * *'", "      timezone: Mars/Olympus", "jobs:", ...JOB];
    expect(diagnosticAt(lines, "on.schedule[0].timezone")).toMatchObject({
      ...where(lines, 4, "Mars/Olympus"),
      message: "unknown time zone 'Mars/Olympus'",
      hint: "use an IANA name such as Europe/Berlin or Asia/Shanghai",
    });
  });

  it("accepts a valid cron with a time zone", () => {
    const result = parsePipeline(source(["on:", "  schedule:", "    - cron: '30 2 * * 1-5'", "      timezone: Asia/Shanghai", "jobs:", ...JOB]), ".gust.yml");
    expect(result.ok).toBe(true);
  });
});

describe("manual inputs", () => {
  const file = (input: string[]) => ["on:", "  manual:", "    inputs:", "      target:", ...input.map((l) => `        ${l}`), "jobs:", ...JOB];

  it("requires options for a choice", () => {
    const lines = file(["type: choice"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.options")).toMatchObject({ ...where(lines, 5, "type"), message: "a choice input needs options", hint: "add options: [a, b]" });
  });

  it("rejects options on a non-choice input", () => {
    const lines = file(["type: string", "options: [a]"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.options")).toMatchObject({ ...where(lines, 6, "[a]"), message: "options are only for type: choice" });
  });

  it("rejects a default that is not one of the options", () => {
    const lines = file(["type: choice", "options: [staging, production]", "default: prod"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.default")).toMatchObject({ ...where(lines, 7, "prod"), message: "default 'prod' is not one of the options" });
  });

  it("rejects a default of the wrong type", () => {
    const lines = file(["type: boolean", "default: 'yes'"]);
    expect(diagnosticAt(lines, "on.manual.inputs.target.default")).toMatchObject({ ...where(lines, 6, "'yes'"), message: "default must be a boolean" });
  });
});

describe("expressions", () => {
  it("points at the unknown name in a plain if", () => {
    const lines = ["jobs:", "  build:", "    if: branch == 'main' && brnch != ''", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "brnch"), message: "unknown name 'brnch'", hint: "did you mean 'branch'?" });
  });

  it("points at the character in a double-quoted if with escapes", () => {
    const lines = ["jobs:", "  build:", '    if: "contains(branch, \\"x\\") && fromJSON(1, 2)"', "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.if");
    expect(d).toMatchObject(where(lines, 3, "fromJSON"));
    expect(d.message).toBe("'fromJSON' takes 1 argument, got 2");
  });

  it("points at the character in a single-quoted if with doubled quotes", () => {
    const lines = ["jobs:", "  build:", "    if: 'branch == ''main'' && tga'", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "tga"), hint: "did you mean 'tag'?" });
  });

  it("points inside a ${{ }}-wrapped if", () => {
    const lines = ["jobs:", "  build:", "    if: ${{ branch == 'main' && evnt }}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ ...where(lines, 3, "evnt"), hint: "did you mean 'event'?" });
  });

  it("points at the end of an incomplete expression", () => {
    const lines = ["jobs:", "  build:", "    if: branch ==", "    steps:", "      - run: make"];
    const d = diagnosticAt(lines, "jobs.build.if");
    expect(d.line).toBe(3);
    expect(d.column).toBe(lines[2]!.length + 1);
    expect(d.message).toMatch(/unexpected end of expression/);
  });

  it("reports an empty condition", () => {
    const lines = ["jobs:", "  build:", "    if: ${{ }}", "    steps:", "      - run: make"];
    expect(diagnosticAt(lines, "jobs.build.if")).toMatchObject({ message: "empty condition", hint: "write an expression such as branch == 'main'" });
  });

  it("points at the character in a run template on one line", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 4, "brnch"));
  });

  it("points at the character on the right line of a block | run", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: |", "          echo ${{ branch }}", "          echo ${{ bogus.x }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject({ ...where(lines, 6, "bogus"), message: "unknown name 'bogus'" });
  });

  it("points at the character in a more-indented line of a block |- run after a blank line", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: |-", "          echo one", "", "            echo ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 7, "brnch"));
  });

  it("points at the character in a folded > run", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: >", "          make", "          ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 6, "brnch"));
  });

  it("points at the character in a block | if spanning lines", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        if: |", "          branch == 'main' &&", "            nope"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].if")).toMatchObject({ ...where(lines, 7, "nope"), message: "unknown name 'nope'" });
  });

  it("points at the character in a double-quoted run with escapes", () => {
    const lines = ["jobs:", "  build:", "    steps:", '      - run: "printf \\"%s\\\\n\\" \\x41 ${{ brnch }}"'];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 4, "brnch"));
  });

  it("points at the character in a multi-line plain scalar", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo a", "          b ${{ brnch }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].run")).toMatchObject(where(lines, 5, "brnch"));
  });

  it("points at an unterminated string", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ 'abc }}"];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject(where(lines, 4, "'abc"));
    expect(d.message).toMatch(/unterminated string/);
  });

  it("points at an unclosed ${{", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: echo ${{ branch"];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject(where(lines, 4, "${{"));
    expect(d.message).toMatch(/unclosed/);
  });

  it("does not let steps read needs", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        if: needs.x.result == 'success'"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].if")).toMatchObject({ ...where(lines, 5, "needs"), message: "unknown name 'needs'" });
  });

  it("allows hashFiles only in the cache key", () => {
    const lines = [
      "jobs:",
      "  build:",
      "    cache:",
      "      key: deps-${{ hashFiles('package-lock.json') }}",
      "      paths: [node_modules]",
      "    steps:",
      "      - run: echo ${{ hashFiles('x') }}",
    ];
    const d = diagnosticAt(lines, "jobs.build.steps[0].run");
    expect(d).toMatchObject({ ...where(lines, 7, "hashFiles"), message: "unknown function 'hashFiles'" });
  });

  it("checks expressions in cache restore keys, which the planner renders", () => {
    const lines = ["jobs:", "  build:", "    matrix: {node: [20]}", "    cache:", "      key: k", "      paths: x", "      restore-keys: ['deps-${{ mtrix.node }}-', 'x-${{ matrix.nod }}']", "    steps:", "      - run: make"];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["jobs.build.cache.restore-keys[0]", 7, where(lines, 7, "mtrix").column, "unknown name 'mtrix'"],
      ["jobs.build.cache.restore-keys[1]", 7, where(lines, 7, "'x-").column, "unknown matrix axis 'nod'"],
    ]);
  });

  it("checks expressions in env values, names, images and services", () => {
    const lines = [
      "env:",
      "  A: ${{ brnch }}",
      "jobs:",
      "  build:",
      "    name: build ${{ mtrix.os }}",
      "    image: node:${{ inptus.v }}",
      "    services:",
      "      db: {image: 'pg:${{ evnt }}'}",
      "    steps:",
      "      - run: make",
    ];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.line, d.column])).toEqual([
      ["env.A", 2, where(lines, 2, "brnch").column],
      ["jobs.build.name", 5, where(lines, 5, "mtrix").column],
      ["jobs.build.image", 6, where(lines, 6, "inptus").column],
      ["jobs.build.services.db.image", 8, where(lines, 8, "evnt").column],
    ]);
  });
});

describe("needs", () => {
  it("names an unknown job and suggests the closest", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: [biuld]", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.needs[0]")).toMatchObject({ ...where(lines, 6, "biuld"), message: "unknown job 'biuld' in needs", hint: "did you mean 'build'?" });
  });

  it("lists the jobs when an unknown need is not close to any", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: deploy", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.needs")).toMatchObject({ ...where(lines, 6, "deploy"), message: "unknown job 'deploy' in needs", hint: "jobs: build, test" });
  });

  it("reports a job that needs itself", () => {
    const lines = ["jobs:", "  build:", "    needs: [build]", "    steps:", "      - run: make"];
    expect(diagnosticsOf(lines)).toEqual([{ file: ".gust.yml", ...where(lines, 3, "build]"), path: "jobs.build.needs[0]", message: "job 'build' needs itself", hint: "remove 'build' from its needs" }]);
  });

  it("reports a 2-job cycle once, naming it", () => {
    const lines = ["jobs:", "  a:", "    needs: b", "    steps: [{run: x}]", "  b:", "    needs: [a]", "    steps: [{run: x}]"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ ...where(lines, 6, "a]"), path: "jobs.b.needs[0]", message: "needs cycle: a → b → a" });
    expect(diagnostics[0]!.hint).toMatch(/remove one of these needs/);
  });

  it("reports a 3-job cycle once, with the whole path", () => {
    const lines = ["jobs:", "  c:", "    needs: d", "    steps: [{run: x}]", "  d:", "    needs: e", "    steps: [{run: x}]", "  e:", "    needs: [x, c]", "    steps: [{run: x}]", "  x:", "    steps: [{run: x}]"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ ...where(lines, 9, "c]"), path: "jobs.e.needs[1]", message: "needs cycle: c → d → e → c" });
  });

  it("reports two separate cycles each once", () => {
    const lines = ["jobs:", "  a: {needs: b, steps: [{run: x}]}", "  b: {needs: a, steps: [{run: x}]}", "  c: {needs: d, steps: [{run: x}]}", "  d: {needs: c, steps: [{run: x}]}"];
    expect(diagnosticsOf(lines).map((d) => d.message)).toEqual(["needs cycle: a → b → a", "needs cycle: c → d → c"]);
  });

  it("reports needs.X in a job if when X is not needed", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: build", "    if: needs.biuld.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ ...where(lines, 7, "needs"), message: "'needs.biuld' refers to a job this one does not need", hint: "did you mean 'build'?" });
  });

  it("suggests adding the job to needs", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    if: needs.build.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if").hint).toBe("add 'build' to needs");
  });

  it("does not report needs.X again when X is listed in needs but unknown", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: [nope]", "    if: needs.nope.result == 'success'", "    steps:", "      - run: make test"];
    expect(diagnosticsOf(lines).map((d) => [d.path, d.message])).toEqual([["jobs.test.needs[0]", "unknown job 'nope' in needs"]]);
  });

  it("reports a needs field other than result", () => {
    const lines = ["jobs:", ...JOB, "  test:", "    needs: build", "    if: needs.build.outputs.x == '1'", "    steps:", "      - run: make test"];
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ message: "'needs.build.outputs' is unknown", hint: "only needs.<job>.result exists" });
  });
});

describe("matrix references", () => {
  const job = (extra: string[]) => ["jobs:", "  test:", "    matrix:", "      node: [18, 20]", "      os: [linux]", ...extra];

  it("reports an unknown axis in a run template with a suggestion", () => {
    const lines = job(["    steps:", "      - run: echo ${{ matrix.nod }}"]);
    expect(diagnosticAt(lines, "jobs.test.steps[0].run")).toMatchObject({ ...where(lines, 7, "echo"), message: "unknown matrix axis 'nod'", hint: "did you mean 'node'?" });
  });

  it("reports an unknown axis in an if", () => {
    const lines = job(["    if: matrix.arch == 'arm'", "    steps:", "      - run: make"]);
    expect(diagnosticAt(lines, "jobs.test.if")).toMatchObject({ ...where(lines, 6, "matrix"), message: "unknown matrix axis 'arch'", hint: "axes: node, os" });
  });

  it("knows keys that include adds", () => {
    const lines = job(["      include: [{node: 20, experimental: true}]", "    steps:", "      - run: echo ${{ matrix.experimental }}"]);
    expect(parsePipeline(source(lines), ".gust.yml").ok).toBe(true);
  });

  it("reports matrix use in a job without a matrix", () => {
    const lines = ["jobs:", "  build:", "    steps:", "      - run: make", "        env:", "          NODE: ${{ matrix.node }}"];
    expect(diagnosticAt(lines, "jobs.build.steps[0].env.NODE")).toMatchObject({ ...where(lines, 6, "${{"), message: "'matrix.node' is used but job 'build' has no matrix" });
  });

  it("reports an exclude naming an unknown axis, at the key", () => {
    const lines = job(["      exclude:", "        - {nod: 18, os: linux}", "    steps:", "      - run: make"]);
    expect(diagnosticAt(lines, "jobs.test.matrix.exclude[0].nod")).toMatchObject({ ...where(lines, 7, "nod"), message: "exclude names 'nod', which is not a matrix axis", hint: "did you mean 'node'?" });
  });
});

describe("release", () => {
  const jobs = ["jobs:", "  build:", "    artifacts: dist", "    steps:", "      - run: make", "  test:", "    steps:", "      - run: make test"];

  it("reports release wiring problems, each at its field", () => {
    const lines = [
      ...jobs,
      "release:",
      "  needs: [tset]",
      "  artifact: {from: test}",
      "  target:",
      "    type: fc",
      "    region: cn-hangzhou",
      "    function: hello",
      "  strategy:",
      "    steps:",
      "      - weight: 50",
      "      - weight: 20",
      "      - analysis: {}",
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["release.needs[0]", 10, where(lines, 10, "tset").column, "unknown job 'tset' in needs"],
      ["release.artifact.from", 11, where(lines, 11, "test").column, "job 'test' declares no artifacts"],
      ["release.artifact.from", 11, where(lines, 11, "test").column, "the release takes its artifact from 'test' but does not need it"],
      ["release.strategy.steps[1].weight", 19, where(lines, 19, "20").column, "weight 20 is lower than the previous step's 50"],
      ["release.strategy.steps[2]", 20, where(lines, 20, "analysis").column, "an analysis step needs a release.analysis section"],
    ]);
    expect(diagnostics[0]!.hint).toBe("did you mean 'test'?");
  });

  it("reports target-specific requirements", () => {
    const sae = [...jobs, "release:", "  target:", "    type: sae", "    region: cn-hangzhou", "    app-id: a1"];
    expect(diagnosticAt(sae, "release.target")).toMatchObject({ ...where(sae, 11, "type"), message: "an sae target needs image or package-url" });
    const fc = [...jobs, "release:", "  target: {type: fc, region: r, function: f}"];
    expect(diagnosticAt(fc, "release.target").message).toBe("an fc target needs code: an artifact (release.artifact) or an image");
    const local = [...jobs, "release:", "  target: {type: local, command: node ., port: 8080}"];
    expect(diagnosticAt(local, "release.target").message).toBe("a local target runs a job's artifact");
  });

  it("reports missing target fields", () => {
    const lines = [...jobs, "release:", "  target:", "    type: fc", "    function: f", "    image: x"];
    expect(diagnosticAt(lines, "release.target.region")).toMatchObject({ ...where(lines, 11, "type"), message: "missing required field 'region'" });
  });

  it("reports a missing target", () => {
    const lines = [...jobs, "release:", "  needs: build"];
    expect(diagnosticAt(lines, "release.target")).toMatchObject({ message: "missing required field 'target'" });
  });

  it("reports ab routing on an FC target and an ab without a rule", () => {
    const lines = [...jobs, "release:", "  artifact: {from: build}", "  target: {type: fc, region: r, function: f}", "  strategy:", "    ab: {}", "    steps: [{weight: 100}]"];
    const diagnostics = diagnosticsOf(lines).filter((d) => d.path === "release.strategy.ab");
    expect(diagnostics.map((d) => d.message)).toEqual([
      "FC aliases split traffic by weight only; header or cookie routing is not available",
      "ab needs a header or a cookie to route by",
    ]);
    expect(diagnostics[0]).toMatchObject(where(lines, 13, "{}"));
  });

  it("asks where SAE applies an A/B route, and reads builtin metrics only from the local target", () => {
    const lines = [
      ...jobs,
      "release:",
      "  target: {type: sae, region: r, app-id: a, image: x}",
      "  strategy:",
      "    ab: {header: {name: x-beta, value: '1'}}",
      "    steps: [{weight: 10}]",
      "  analysis:",
      "    metrics: [{name: error-rate, max: 1%}]",
    ];
    expect(diagnosticAt(lines, "release.strategy.ab")).toMatchObject({ ...where(lines, 12, "{header"), hint: "add target.ab-gateway: {alb-ingress: <ingress id>} or {spring-cloud-path: /}" });
    expect(diagnosticAt(lines, "release.analysis.metrics[0]")).toMatchObject({ message: "metric 'error-rate' reads the target's own figures, and sae targets keep none Gust can read" });
    const routed = lines.map((line) => (line.startsWith("  target:") ? "  target: {type: sae, region: r, app-id: a, image: x, ab-gateway: {alb-ingress: alb-1}}" : line));
    expect(diagnosticsOf(routed).filter((d) => d.path === "release.strategy.ab")).toEqual([]);
  });

  it("reports metric problems", () => {
    const lines = [
      ...jobs,
      "release:",
      "  artifact: {from: build}",
      "  target: {type: local, command: node ., port: 8080}",
      "  analysis:",
      "    metrics:",
      "      - name: errors",
      "      - name: error-rate",
      "        builtin: error-rate",
      "        prometheus: {url: 'http://prom:9090', query: q}",
      "        max: 1%",
      "      - name: latency-p99",
      "        max: fast",
    ];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.message])).toEqual([
      ["release.analysis.metrics[0]", 14, "metric 'errors' needs a threshold"],
      ["release.analysis.metrics[0].name", 14, "'errors' is not a builtin metric and has no prometheus query"],
      ["release.analysis.metrics[1].prometheus", 17, "a metric is either builtin or prometheus, not both"],
      ["release.analysis.metrics[2].max", 20, "expected a number, a percentage (1%) or a latency (500ms)"],
    ]);
  });

  it("reports a webhook that is not a URL, and a health path without a slash", () => {
    const lines = [...jobs, "release:", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080, health-path: healthz}", "  notify: {webhook: not-a-url}"];
    const diagnostics = diagnosticsOf(lines);
    expect(diagnostics.map((d) => [d.path, d.line, d.column, d.message])).toEqual([
      ["release.target.health-path", 11, where(lines, 11, "healthz").column, "must start with '/'"],
      ["release.notify.webhook", 12, where(lines, 12, "not-a-url").column, "expected a URL, got the string 'not-a-url'"],
    ]);
  });

  it("checks needs.X in the release's if against its needs", () => {
    const release = ["release:", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080}"];
    const narrowed = [...jobs, ...release, "  needs: build", "  if: needs.test.result == 'success'"];
    expect(diagnosticAt(narrowed, "release.if")).toMatchObject({ ...where(narrowed, 13, "needs"), message: "'needs.test' refers to a job this one does not need" });
    const everyJob = [...jobs, ...release, "  if: needs.test.result == 'success' && needs.docs.result == 'skipped'"];
    expect(diagnosticAt(everyJob, "release.if").message).toBe("'needs.docs' refers to a job this one does not need");
  });

  it("lists the jobs for an unknown release need that is not close to any", () => {
    const lines = [...jobs, "release:", "  needs: deploy", "  artifact: {from: build}", "  target: {type: local, command: node ., port: 8080}"];
    expect(diagnosticAt(lines, "release.needs")).toMatchObject({ message: "unknown job 'deploy' in needs", hint: "jobs: build, test" });
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
