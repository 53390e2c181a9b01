import { describe, expect, it } from "vitest";
import { GustError } from "../errors";
import type { Forge, NormalizedEvent, PipelineFileText } from "../forges/forge";
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
  };
}

function deps(event: NormalizedEvent, forge: Forge, registered = true) {
  const created: Array<NewPipeline & { repositoryId: number; deliveryId: number; fromFork: boolean }> = [];
  const marks: Array<{ id: number; status: string; detail: string }> = [];
  const repository = { id: 7, forge: "github", fullName: "acme/app" };
  const d: DeliveryProcessorDeps = {
    normalize: () => event,
    findRepository: async () => (registered ? repository : undefined),
    getRepository: async () => (registered ? repository : undefined),
    forgeFor: async () => forge,
    createPipeline: async (input) => {
      created.push(input);
      return { id: 100 + created.length, number: created.length };
    },
    markDelivery: async (id, status, detail) => void marks.push({ id, status, detail }),
    warn: () => undefined,
  };
  return { d, created, marks };
}

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
    expect(await processDelivery(delivery, permanent.d)).toEqual({ status: "failed", reason: "the token lacks contents:read" });
    expect(permanent.marks[0]).toMatchObject({ status: "failed" });
  });
});
