// The step launcher of the local executor (one shell per job forking the steps): the step file's
// quoting, boundary detection in the output, and jobs that stress the shared output pipes.
import { execFileSync } from "node:child_process";
import { readdir } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/executors/local/line-splitter";
import { shellQuote, stepFileText } from "../../src/executors/local/step-file";
import { isProcessRunning, useLocalHarness, type LocalHarness } from "./local-harness";

const TRICKY = [
  "it's",
  "'''",
  "a\nb\n",
  "$HOME $(echo nope) ${X:-y}",
  "`echo nope`",
  '"double" \\ back\\slash',
  "unicode: €, 日本, 😀",
  "",
  " spaces  and\ttabs ",
];

describe("step file", () => {
  it("single-quotes values so the shell reads them back verbatim", () => {
    for (const value of TRICKY) {
      const out = execFileSync("/bin/sh", ["-c", `X=${shellQuote(value)}; printf '%s' "$X"`], { encoding: "utf8" });
      expect(out).toBe(value);
    }
  });

  it("exports only what differs from the launcher's environment, then cds and execs the script", () => {
    const text = stepFileText({ SAME: "1", CHANGED: "old" }, { SAME: "1", CHANGED: "new", ADDED: "it's" }, "/tmp/a b", "echo hi");
    expect(text).toBe(
      [
        "cd -- '/tmp/a b' || exit 1",
        "export CHANGED='new'",
        "export ADDED='it'\\''s'",
        "unset SHLVL",
        "unset OLDPWD",
        "__gust_script='echo hi'",
        'exec /bin/sh -e -c "$__gust_script"',
        "",
      ].join("\n"),
    );
  });

  it("refuses what a step file cannot express", () => {
    expect(stepFileText({}, { "NOT-A-NAME": "x" }, "/tmp", "true")).toBeUndefined();
    expect(stepFileText({}, { NUL: "a\0b" }, "/tmp", "true")).toBeUndefined();
    expect(stepFileText({}, {}, "/tmp", "a\0b")).toBeUndefined();
  });
});

describe("boundary detection", () => {
  const token = "::boundary-0123::";
  function split(chunks: string[], maxLength = 16): string[] {
    const seen: string[] = [];
    const splitter = new LineSplitter((line) => seen.push(line), maxLength, { token, onBoundary: () => seen.push("<B>") });
    for (const chunk of chunks) splitter.write(Buffer.from(chunk));
    splitter.end();
    return seen;
  }

  it("after a last line with a newline", () => {
    expect(split([`a\nb\n${token}\nc\n`])).toEqual(["a", "b", "<B>", "c"]);
  });

  it("after a last line without a newline: the line, then the boundary", () => {
    expect(split([`a\nlast${token}\n`])).toEqual(["a", "last", "<B>"]);
    expect(split([`last\r${token}\n`])).toEqual(["last", "<B>"]);
  });

  it("with the token split across chunks", () => {
    const whole = `x\npartial${token}\nnext\n`;
    for (let cut = 1; cut < whole.length; cut++) {
      expect(split([whole.slice(0, cut), whole.slice(cut)]), `cut at ${cut}`).toEqual(["x", "partial", "<B>", "next"]);
    }
    expect(split([...whole])).toEqual(["x", "partial", "<B>", "next"]);
  });

  it("after a long unterminated line, which is still cut into pieces", () => {
    const long = "y".repeat(40);
    const chunks = [...`${long}${token}\n`];
    expect(split(chunks)).toEqual(["y".repeat(16), "y".repeat(16), "y".repeat(8), "<B>"]);
  });

  it("only at the end of a line", () => {
    expect(split([`${token} not at the end\n`], 64)).toEqual([`${token} not at the end`]);
  });
});

describe("LocalExecutor step launcher", () => {
  const local = useLocalHarness({ killGraceMs: 300 });
  const run = local.run;
  let harness: LocalHarness;
  beforeAll(() => {
    harness = local.harness();
  });

  it("passes tricky env values verbatim, per step, secrets last", async () => {
    const env = Object.fromEntries(TRICKY.map((value, i) => [`V${i}`, value]));
    const script = TRICKY.map((_, i) => `printf '%s|' "$V${i}"`).join("; ") + "; echo";
    const { recorder, outcome } = await run({
      env: { JOB: "job", V0: "overridden" },
      secrets: { S: "se'cret" },
      steps: [{ script, env }, { script: 'echo "$JOB $V0 $S ${V1-unset}"', env: { S: "step" } }],
    });
    expect(outcome.status).toBe("success");
    expect(recorder.lines(0).join("\n")).toBe(`${TRICKY.join("|")}|`);
    expect(recorder.lines(1)).toEqual(["job overridden se'cret unset"]);
  });

  it("forks every step from one launcher and keeps the step files private, without secrets, and removes them", async () => {
    const { job, recorder, outcome } = await run({
      secrets: { TOKEN: "s3cr3t-value" },
      steps: [
        { script: 'echo "$PPID"; d=$(ls -d ../."$GUST_RUN_ID".steps-*); stat -c %a "$d"; cat "$d"/* | grep -c "s3""cr3t" || true', env: { TOKEN: "x" } },
        { script: 'echo "$PPID"' },
      ],
    });
    expect(outcome.status).toBe("success");
    const [ppid, mode, secretCount] = recorder.lines(0);
    expect(mode).toBe("700");
    expect(secretCount).toBe("0");
    expect(recorder.lines(1)).toEqual([ppid]);
    const left = (await readdir(harness.dirs.workRoot)).filter((name) => name.includes(".steps-"));
    expect(left).toEqual([]);
    expect(job.runId).toBeTruthy();
  });

  it("goes on after a step closed its stdout", async () => {
    const { recorder, outcome } = await run({
      steps: [{ script: "echo before; exec >&-; echo err >&2; sleep 0.1" }, { script: "echo after" }],
    });
    expect(outcome.status).toBe("success");
    expect(recorder.lines(0, "stdout")).toEqual(["before"]);
    expect(recorder.lines(0, "stderr")).toEqual(["err"]);
    expect(recorder.lines(1)).toEqual(["after"]);
  });

  it("delivers huge output whole and in order, on both streams", async () => {
    const { recorder, outcome } = await run({
      steps: [{ script: "seq 1 200000; seq 1 50000 >&2; printf tail" }, { script: "echo next" }],
    });
    expect(outcome.status).toBe("success");
    const out = recorder.lines(0, "stdout");
    expect(out).toHaveLength(200001);
    expect(out[0]).toBe("1");
    expect(out[199999]).toBe("200000");
    expect(out[200000]).toBe("tail");
    expect(recorder.lines(0, "stderr")).toHaveLength(50000);
    expect(recorder.lines(1)).toEqual(["next"]);
  });

  it("does not give a step the output of a background process after it finished", async () => {
    const { recorder, outcome } = await run({
      steps: [
        { script: "(i=0; while [ $i -lt 6 ]; do echo bg$i; i=$((i+1)); sleep 0.1; done) & echo started" },
        { script: "sleep 0.8; echo second" },
      ],
    });
    expect(outcome.status).toBe("success");
    const events = recorder.events;
    const finished0 = events.findIndex((event) => event.type === "step-finished" && event.step === 0);
    const late = events.slice(finished0).filter((event) => event.type === "log" && event.step === 0);
    expect(late).toEqual([]);
    const bg = recorder.logs().filter((event) => event.text.startsWith("bg"));
    expect(bg.map((event) => event.text)).toEqual(["bg0", "bg1", "bg2", "bg3", "bg4", "bg5"]);
    expect(bg.slice(2).every((event) => event.step !== 0)).toBe(true);
    expect(recorder.lines(1)).toContain("second");
  });

  it("kills a step's process group on timeout while the launcher goes on", async () => {
    const { recorder, outcome } = await run({
      steps: [
        { script: 'echo "$PPID"; sleep 30 & echo $! > child.pid; trap "" TERM; sleep 30', timeoutMs: 300, continueOnError: true },
        { script: 'echo "$PPID"; cat child.pid' },
      ],
    });
    expect(outcome.status).toBe("success");
    expect(recorder.stepFinished(0).status).toBe("timed-out");
    const [ppid0] = recorder.lines(0);
    const [ppid1, child] = recorder.lines(1);
    expect(ppid1).toBe(ppid0);
    expect(await isProcessRunning(Number(child))).toBe(false);
    expect(await isProcessRunning(Number(ppid0))).toBe(false); // the launcher, after the job
  });

  it("runs 200 steps in one job", async () => {
    const steps = Array.from({ length: 200 }, () => ({ script: 'echo "$GUST_STEP_INDEX"; printf "no newline"' }));
    const { recorder, outcome } = await run({ steps });
    expect(outcome.status).toBe("success");
    for (let i = 0; i < 200; i++) expect(recorder.lines(i)).toEqual([String(i), "no newline"]);
  });
});
