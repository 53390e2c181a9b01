import { describe, expect, it } from "vitest";
import { GustError, InputError } from "../errors";
import type { Forge, NormalizedEvent, PipelineFileText } from "../forges/forge";
import { normalizeInternalEvent, type InternalPayload } from "./internal-events";
import { processDelivery, type DeliveryProcessorDeps, type NewPipeline } from "./process-delivery";

const SHA = "a".repeat(40);

function runEvent(overrides: Partial<Extract<NormalizedEvent, { kind: "run" }>> = {}): NormalizedEvent {
  return {
    kind: "run",
    repo: { fullName: "acme/app", cloneUrl: "https://example.invalid/acme/app.git", defaultBranch: "main" },
    context: { event: "push", ref: "refs/heads/main", branch: "main", sha: SHA },
    fromFork: false,
    deliveryKind: "push",
    ...overrides,
  };
}

function fakeForge(files: PipelineFileText[], options: { listError?: Error } = {}): Forge {
  return {
    kind: "github",
    readFile: async () => undefined,
    listPipelineFiles: async () => {
      if (options.listError) throw options.listError;
      return files;
    },
    changedFiles: async () => ["src/index.js"],
    reportJob: async () => ({ via: "memory" }),
    reportPipeline: async () => ({ via: "memory" }),
    resolveRef: async (_repo, ref) => ({ sha: SHA, ref: `refs/heads/${ref}`, branch: ref }),
    defaultBranch: async () => "main",
  };
}

function deps(event: NormalizedEvent, forge: Forge, registered = true) {
  const created: Array<NewPipeline & { repositoryId: number; deliveryId: number; fromFork: boolean }> = [];
  const marks: Array<{ id: number; status: string; detail: string }> = [];
  const cancelled: number[] = [];
  const events: string[] = [];
  const warnings: string[] = [];
  const repository = { id: 7, forge: "github", fullName: "acme/app" };
  const d: DeliveryProcessorDeps = {
    normalize: () => event,
    findRepository: async () => (registered ? repository : undefined),
    getRepository: async () => (registered ? repository : undefined),
    forgeFor: async () => forge,
    createPipeline: async (input) => {
      created.push(input);
      return { id: 100 + created.length, number: created.length, status: "plan" in input ? "pending" : "error" };
    },
    markDelivery: async (id, status, detail) => void marks.push({ id, status, detail }),
    cancelInProgress: async (pipelineId) => void cancelled.push(pipelineId),
    onEvent: (run, repository) => void events.push(`${run.context.event} ${repository.fullName}`),
    warn: (message) => void warnings.push(message),
  };
  return { d, created, marks, cancelled, events, warnings };
}

/** A `gust` delivery (manual trigger or schedule tick) through the real internal normalizer. */
function internal(event: "manual" | "schedule", files: PipelineFileText[], payload: Partial<InternalPayload> = {}) {
  const body: InternalPayload = { repositoryId: 7, ref: "refs/heads/main", sha: SHA, branch: "main", ...payload };
  const setup = deps(normalizeInternalEvent(event, body), fakeForge(files));
  return { ...setup, delivery: { id: 2, forge: "gust", event, payload: body, repositoryId: 7 } };
}

const MANUAL = `on:
  manual:
    inputs:
      count: {type: number, default: 1}
      target: {type: choice, options: [staging, production], required: true}
jobs:
  deploy: {steps: [{run: 'echo \${{ inputs.target }} \${{ inputs.count }}'}]}
`;
const PUSH_ONLY = "on: {push: {branches: [main]}}\njobs:\n  a: {steps: [{run: echo}]}\n";

const delivery = { id: 1, forge: "github", event: "push", payload: {}, repositoryId: null };

describe("processDelivery", () => {
  it("creates a pipeline per triggered file, with the changed files in the plan", async () => {
    const forge = fakeForge([
      { path: ".gust.yml", text: "on: {push: {branches: [main]}}\njobs:\n  a: {steps: [{run: echo}]}\n" },
      { path: ".gust/docs.yml", text: "on: {push: {paths: ['docs/**']}}\njobs:\n  d: {steps: [{run: echo}]}\n" },
    ]);
    const { d, created, marks } = deps(runEvent(), forge);
    const result = await processDelivery(delivery, d);
    expect(result.status).toBe("processed");
    expect(created).toHaveLength(1);
    const input = created[0]!;
    expect("plan" in input && input.plan.event.changedFiles).toEqual(["src/index.js"]);
    expect(input).toMatchObject({ repositoryId: 7, deliveryId: 1, fromFork: false });
    expect(marks).toEqual([{ id: 1, status: "processed", detail: "created app #1; not triggered: docs: no changed file matches paths docs/**" }]);
  });

  it("turns a broken pipeline file into an error pipeline with every problem", async () => {
    const forge = fakeForge([{ path: ".gust.yml", text: "jobs:\n  a:\n    stesp: []\n" }]);
    const { d, created } = deps(runEvent(), forge);
    await processDelivery(delivery, d);
    const input = created[0]!;
    expect("error" in input && input.error).toMatch(/\.gust\.yml:3:5: error: unknown key 'stesp'[\s\S]*did you mean 'steps'/);
  });

  it("passes fromFork so the jobs of a fork's pull request get no secrets", async () => {
    const forge = fakeForge([{ path: ".gust.yml", text: "jobs:\n  a: {steps: [{run: echo}]}\n" }]);
    const event = runEvent({ fromFork: true, context: { event: "pull_request", ref: "refs/pull/3/head", branch: "feature", targetBranch: "main", sha: SHA, action: "opened" } });
    const { d, created } = deps(event, forge);
    await processDelivery(delivery, d);
    expect(created[0]!.fromFork).toBe(true);
  });

  it("ignores events, unknown repositories, commits without pipeline files, untriggered files", async () => {
    const ignoredEvent = deps({ kind: "ignored", reason: "branch deleted" }, fakeForge([]));
    expect(await processDelivery(delivery, ignoredEvent.d)).toEqual({ status: "ignored", reason: "branch deleted" });

    const unknown = deps(runEvent(), fakeForge([]), false);
    expect(await processDelivery(delivery, unknown.d)).toMatchObject({ status: "ignored", reason: expect.stringContaining("gust repo add github acme/app") });

    const empty = deps(runEvent(), fakeForge([]));
    expect(await processDelivery(delivery, empty.d)).toMatchObject({ status: "ignored", reason: expect.stringContaining("no pipeline file") });

    const untriggered = deps(runEvent(), fakeForge([{ path: ".gust.yml", text: "on: {push: {branches: [release]}}\njobs:\n  a: {steps: [{run: echo}]}\n" }]));
    expect(await processDelivery(delivery, untriggered.d)).toMatchObject({ status: "ignored", reason: expect.stringContaining("branch 'main' does not match") });
    expect(untriggered.created).toEqual([]);
  });

  it("leaves the delivery pending on a retryable forge failure, and fails it on a permanent one", async () => {
    const down = new GustError("GitHub answered 502", { fault: "infrastructure", retryable: true, code: "forge_unavailable" });
    const retry = deps(runEvent(), fakeForge([], { listError: down }));
    await expect(processDelivery(delivery, retry.d)).rejects.toBe(down);
    expect(retry.marks).toEqual([]);

    const denied = new GustError("the token lacks contents:read", { fault: "infrastructure", retryable: false, code: "forge_forbidden" });
    const permanent = deps(runEvent(), fakeForge([], { listError: denied }));
    expect(await processDelivery(delivery, permanent.d)).toEqual({ status: "failed", reason: "the token lacks contents:read", error: denied });
    expect(permanent.marks[0]).toMatchObject({ status: "failed" });
  });

  it("runs only the files with on.manual for a manual trigger, with the inputs typed and defaults filled in", async () => {
    const { d, created, delivery, events } = internal("manual", [{ path: ".gust.yml", text: PUSH_ONLY }, { path: ".gust/deploy.yml", text: MANUAL }], { inputs: { target: "production" } });
    const result = await processDelivery(delivery, d);
    expect(result).toMatchObject({ status: "processed", pipelines: [{ name: "deploy", status: "pending" }], notTriggered: ["app: the pipeline has no on.manual trigger"] });
    const plan = "plan" in created[0]! ? created[0].plan : undefined;
    expect(plan?.inputs).toEqual({ target: "production", count: 1 });
    expect(plan?.event).toMatchObject({ event: "manual", ref: "refs/heads/main", sha: SHA, branch: "main" });
    expect(events).toEqual(["manual acme/app"]);
  });

  it("fails a manual trigger with bad inputs as an InputError naming the input, creating nothing", async () => {
    for (const [inputs, message] of [
      [{ target: "production", count: "many" }, "input 'count' expects a number, got 'many'"],
      [{ target: "prod" }, "input 'target' expects one of staging, production, got 'prod'"],
      [{ target: "staging", cuont: 2 }, "unknown input 'cuont'"],
      [{}, "input 'target' is required"],
    ] as const) {
      const { d, created, delivery, marks } = internal("manual", [{ path: ".gust/deploy.yml", text: MANUAL }], { inputs });
      const result = await processDelivery(delivery, d);
      expect(result.status).toBe("failed");
      const error = result.status === "failed" ? result.error : undefined;
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(message);
      expect(created).toEqual([]);
      expect(marks[0]).toMatchObject({ status: "failed", detail: expect.stringContaining(message) });
    }
  });

  it("gives each manual pipeline the inputs it declares: an input another one declares is no error", async () => {
    const other = "on: {manual: {inputs: {version: {type: string, default: '1.0'}}}}\njobs:\n  r: {steps: [{run: echo}]}\n";
    const { d, created, delivery } = internal("manual", [{ path: ".gust/deploy.yml", text: MANUAL }, { path: ".gust/release.yml", text: other }], { inputs: { target: "staging", version: "2.0" } });
    expect(await processDelivery(delivery, d)).toMatchObject({ status: "processed" });
    expect(created.map((input) => ("plan" in input ? input.plan.inputs : undefined))).toEqual([{ target: "staging", count: 1 }, { version: "2.0" }]);
  });

  it("runs only the pipeline a manual trigger names, by name or by file", async () => {
    const files = [{ path: ".gust/deploy.yml", text: MANUAL }, { path: ".gust/docs.yml", text: "on: manual\njobs:\n  d: {steps: [{run: echo}]}\n" }];
    for (const pipeline of ["docs", ".gust/docs.yml"]) {
      const { d, created, delivery } = internal("manual", files, { pipeline });
      expect(await processDelivery(delivery, d)).toMatchObject({ status: "processed", pipelines: [{ name: "docs" }] });
      expect(created).toHaveLength(1);
    }
    const { d, created, delivery } = internal("manual", files, { pipeline: "nope" });
    expect(await processDelivery(delivery, d)).toEqual({ status: "ignored", reason: `no pipeline named 'nope' at ${SHA.slice(0, 12)}; there are: deploy (.gust/deploy.yml), docs (.gust/docs.yml)` });
    expect(created).toEqual([]);
  });

  it("says why nothing ran when no file has a manual trigger", async () => {
    const { d, delivery } = internal("manual", [{ path: ".gust.yml", text: PUSH_ONLY }]);
    expect(await processDelivery(delivery, d)).toEqual({ status: "ignored", reason: "no pipeline runs for this event: app: the pipeline has no on.manual trigger" });
  });

  it("runs a schedule tick's file only, and not when its entry or file is gone", async () => {
    const nightly = "on: {schedule: [{cron: '0 3 * * *'}], push: null}\njobs:\n  n: {steps: [{run: echo}]}\n";
    const files = [{ path: ".gust.yml", text: "on: {schedule: [{cron: '0 4 * * *'}]}\njobs:\n  a: {steps: [{run: echo}]}\n" }, { path: ".gust/nightly.yml", text: nightly }];
    const tick = internal("schedule", files, { scheduleEntry: ".gust/nightly.yml#0", actor: "schedule" });
    expect(await processDelivery(tick.delivery, tick.d)).toMatchObject({ status: "processed", pipelines: [{ name: "nightly" }] });
    expect(tick.created).toHaveLength(1);
    expect("plan" in tick.created[0]! && tick.created[0].plan.event.event).toBe("schedule");

    const gone = internal("schedule", files, { scheduleEntry: ".gust/nightly.yml#1" });
    expect(await processDelivery(gone.delivery, gone.d)).toEqual({ status: "ignored", reason: "no pipeline runs for this event: nightly: its schedule has no entry #1 any more" });
    const removed = internal("schedule", files, { scheduleEntry: ".gust/weekly.yml#0" });
    expect(await processDelivery(removed.delivery, removed.d)).toMatchObject({ status: "ignored", reason: expect.stringContaining(".gust/weekly.yml is no longer there") });
  });

  it("ignores a malformed internal delivery instead of retrying it forever", async () => {
    const { d } = deps(normalizeInternalEvent("schedule", { repositoryId: 7, ref: "refs/heads/main", sha: SHA, scheduleEntry: "no-index" }), fakeForge([]));
    expect(await processDelivery({ id: 3, forge: "gust", event: "schedule", payload: {}, repositoryId: 7 }, d)).toMatchObject({ status: "ignored", reason: expect.stringContaining("scheduleEntry") });
    expect(normalizeInternalEvent("manual", { repositoryId: "7", ref: "x", sha: SHA })).toMatchObject({ kind: "ignored", reason: expect.stringContaining("repositoryId") });
    expect(normalizeInternalEvent("manual", { repositoryId: 7, ref: "x", sha: SHA, inputs: { a: [1] } })).toMatchObject({ kind: "ignored", reason: expect.stringContaining("inputs.a") });
  });

  it("cancels the older runs of a group after creating a pipeline with cancel-in-progress, and only then", async () => {
    const grouped = "on: push\nconcurrency: {group: 'ci-${{ branch }}', cancel-in-progress: true}\njobs:\n  a: {steps: [{run: echo}]}\n";
    const queued = "on: push\nconcurrency: ci-${{ branch }}\njobs:\n  b: {steps: [{run: echo}]}\n";
    const { d, cancelled } = deps(runEvent(), fakeForge([{ path: ".gust/grouped.yml", text: grouped }, { path: ".gust/queued.yml", text: queued }]));
    const result = await processDelivery(delivery, d);
    expect(result).toMatchObject({ status: "processed", pipelines: [{ id: 101, name: "grouped" }, { id: 102, name: "queued" }] });
    expect(cancelled).toEqual([101]);
  });

  it("keeps the new pipeline when cancelling the older ones fails: a retry would create it twice", async () => {
    const grouped = "on: push\nconcurrency: {group: ci, cancel-in-progress: true}\njobs:\n  a: {steps: [{run: echo}]}\n";
    const { d, created, warnings } = deps(runEvent(), fakeForge([{ path: ".gust.yml", text: grouped }]));
    d.cancelInProgress = async () => {
      throw new GustError("database busy", { fault: "infrastructure", retryable: true, code: "store_busy" });
    };
    expect(await processDelivery(delivery, d)).toMatchObject({ status: "processed" });
    expect(created).toHaveLength(1);
    expect(warnings).toEqual(["cancel-in-progress after pipeline 101: database busy"]);
  });
});
