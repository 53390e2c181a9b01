// Manual triggers end to end below HTTP: a repository on disk (LocalForge), the real stores on
// PGlite (and PostgreSQL with TEST_DATABASE_URL), the real delivery processor.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, StoreError } from "../../src/errors";
import { triggerPipeline, type TriggerDeps } from "../../src/app/trigger-pipeline";
import { LocalForge } from "../../src/forges/local";
import { RepositoriesStore } from "../../src/store";
import { deliveries, pipelines } from "../../src/store/schema";
import { createGitRepository } from "../forges/harnesses";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { sealer } from "../store/fixtures";
import { storeProcessor } from "./store-processor";

const DEPLOY = `on:
  push: {branches: [main]}
  manual:
    inputs:
      target: {type: choice, options: [staging, production], required: true}
      dry-run: {type: boolean, default: true}
jobs:
  deploy: {steps: [{run: 'echo deploy'}]}
`;
const DOCS = "on: push\njobs:\n  docs: {steps: [{run: echo docs}]}\n";

describe.each(DATABASE_KINDS)("manual triggers (%s)", (kind) => {
  const db = useTestDatabase(kind);
  const git = createGitRepository();
  let first: string;
  let second: string;
  let repositoryId: number;
  const retried: number[] = [];

  function deps(overrides: Partial<TriggerDeps["processor"]> = {}): TriggerDeps {
    const processor = { ...storeProcessor(db.database, new LocalForge()), ...overrides };
    return {
      getRepository: (id) => processor.getRepository(id),
      forgeFor: (repository) => processor.forgeFor(repository),
      recordDelivery: (delivery) => processor.deliveries.recordDelivery(delivery),
      processor,
      retryLater: (id) => void retried.push(id),
    };
  }

  beforeAll(async () => {
    first = git.commit({ ".gust/deploy.yml": DEPLOY, ".gust/docs.yml": DOCS });
    second = git.commit({ ".gust/deploy.yml": DEPLOY, ".gust/docs.yml": DOCS, "CHANGES.md": "two\n" }, first);
    git.setTag("v1.0.0", first, "Release 1.0.0");
    repositoryId = (await new RepositoriesStore(db.database, sealer).createRepository({ forge: "local", fullName: git.dir })).id;
  });
  afterAll(() => git.remove());

  it("runs the manual pipelines at the default branch's head, with the inputs checked and stored", async () => {
    const result = await triggerPipeline(repositoryId, { inputs: { target: "staging" }, actor: "ci-bot" }, deps());
    expect(result).toEqual({ status: "created", sha: second, ref: "refs/heads/main", pipelines: [{ id: expect.any(Number), number: expect.any(Number), name: "deploy", status: "pending" }] });
    const [row] = await db.database.db.select().from(pipelines).where(eq(pipelines.id, result.status === "created" ? result.pipelines[0]!.id : 0));
    expect(row).toMatchObject({ event: "manual", ref: "refs/heads/main", branch: "main", sha: second, inputs: { target: "staging", "dry-run": true } });
    const [delivery] = await db.database.db.select().from(deliveries).where(eq(deliveries.id, row!.deliveryId!));
    expect(delivery).toMatchObject({ forge: "gust", event: "manual", status: "processed", repositoryId });
    expect(delivery!.payload).toMatchObject({ repositoryId, ref: "refs/heads/main", sha: second, branch: "main", inputs: { target: "staging" }, actor: "ci-bot" });
  });

  it("runs at a tag, a branch or a commit the request names", async () => {
    expect(await triggerPipeline(repositoryId, { ref: "v1.0.0", inputs: { target: "production" } }, deps())).toMatchObject({ status: "created", sha: first, ref: "refs/tags/v1.0.0" });
    expect(await triggerPipeline(repositoryId, { ref: first.slice(0, 10), inputs: { target: "production" } }, deps())).toMatchObject({ status: "created", sha: first, ref: first });
    const [tagged] = await db.database.db.select().from(pipelines).where(eq(pipelines.ref, "refs/tags/v1.0.0"));
    expect(tagged).toMatchObject({ tag: "v1.0.0", branch: null, sha: first });
  });

  it("refuses bad inputs with an InputError naming the input, and runs nothing", async () => {
    const before = (await db.database.db.select().from(pipelines)).length;
    for (const [inputs, words] of [
      [{ target: "prod" }, "input 'target' expects one of staging, production, got 'prod'"],
      [{ target: "staging", "dry-run": "maybe" }, "input 'dry-run' expects true or false, got 'maybe'"],
      [{ target: "staging", dryrun: true }, "unknown input 'dryrun'"],
      [{}, "input 'target' is required"],
    ] as const) {
      const error = await triggerPipeline(repositoryId, { inputs }, deps()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code: "invalid_inputs", message: expect.stringContaining(words) });
    }
    expect(await db.database.db.select().from(pipelines)).toHaveLength(before);
  });

  it("says why nothing ran when the named pipeline has no manual trigger", async () => {
    expect(await triggerPipeline(repositoryId, { pipeline: "docs" }, deps())).toEqual({
      status: "not_triggered",
      sha: second,
      ref: "refs/heads/main",
      reason: "no pipeline runs for this event: docs: the pipeline has no on.manual trigger",
    });
  });

  it("refuses an unknown repository or ref before storing anything", async () => {
    const stored = (await db.database.db.select().from(deliveries)).length;
    await expect(triggerPipeline(987_654, {}, deps())).rejects.toMatchObject({ code: "repository_not_found", fault: "user" });
    const error = await triggerPipeline(repositoryId, { ref: "no-such-branch" }, deps()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: "ref_not_found", message: expect.stringContaining("'no-such-branch'") });
    await expect(triggerPipeline(repositoryId, { ref: " " }, deps())).rejects.toMatchObject({ code: "invalid_request", message: expect.stringContaining("ref:") });
    expect(await db.database.db.select().from(deliveries)).toHaveLength(stored);
  });

  it("answers pending when the database fails retryably, leaving the delivery for the worker", async () => {
    const busy = deps({
      createPipeline: async () => {
        throw new StoreError("could not serialize access", { retryable: true, code: "store_conflict" });
      },
    });
    const result = await triggerPipeline(repositoryId, { inputs: { target: "staging" } }, busy);
    expect(result).toEqual({ status: "pending", deliveryId: expect.any(Number) });
    const deliveryId = result.status === "pending" ? result.deliveryId : 0;
    expect(retried).toContain(deliveryId);
    const [delivery] = await db.database.db.select().from(deliveries).where(eq(deliveries.id, deliveryId));
    expect(delivery?.status).toBe("pending");
  });
});
