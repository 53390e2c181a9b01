// Use case: a stored webhook delivery becomes pipelines. The event is normalized, the pipeline
// files are read at the exact commit through the forge, each is parsed and planned, and every
// triggered (or broken) file becomes a pipeline in one transaction of the store. Runs after the 202,
// and again at start for deliveries a crash left pending.
import { isGustError } from "../errors";
import type { Forge, NormalizedEvent, RunEvent } from "../forges/forge";
import { defaultPipelineName, formatDiagnostic, parsePipeline, planPipeline, type EventContext, type Plan } from "../pipeline";

export interface StoredDelivery {
  id: number;
  forge: string;
  event: string;
  payload: unknown;
  repositoryId: number | null;
}

export interface KnownRepository {
  id: number;
  forge: string;
  fullName: string;
}

/** A pipeline to create: a plan, or a file that could not be planned (every problem in `error`). */
export type NewPipeline = { plan: Plan } | { error: string; file: string; name: string; event: EventContext };

export interface DeliveryProcessorDeps {
  normalize(forge: string, event: string, payload: unknown): NormalizedEvent;
  findRepository(forge: string, fullName: string): Promise<KnownRepository | undefined>;
  getRepository(id: number): Promise<KnownRepository | undefined>;
  forgeFor(repository: KnownRepository): Promise<Forge>;
  createPipeline(input: NewPipeline & { repositoryId: number; deliveryId: number; fromFork: boolean }): Promise<{ id: number; number: number }>;
  markDelivery(id: number, status: "processed" | "ignored" | "failed", detail: string): Promise<unknown>;
  warn(message: string): void;
}

export type DeliveryResult =
  | { status: "processed"; pipelines: Array<{ id: number; number: number; name: string }>; notTriggered: string[] }
  | { status: "ignored"; reason: string }
  | { status: "failed"; reason: string };

/**
 * Processes one delivery. A retryable failure (forge down, database busy) rejects and leaves the
 * delivery pending for a later attempt; anything permanent marks it failed with the reason.
 */
export async function processDelivery(delivery: StoredDelivery, deps: DeliveryProcessorDeps): Promise<DeliveryResult> {
  const event = deps.normalize(delivery.forge, delivery.event, delivery.payload);
  if (event.kind === "ignored") return finish(delivery, deps, { status: "ignored", reason: event.reason });

  const repository =
    delivery.repositoryId !== null ? await deps.getRepository(delivery.repositoryId) : await deps.findRepository(delivery.forge, event.repo.fullName);
  if (!repository) {
    return finish(delivery, deps, { status: "ignored", reason: `repository ${event.repo.fullName} is not registered with Gust (gust repo add ${delivery.forge} ${event.repo.fullName})` });
  }
  try {
    return await finish(delivery, deps, await createPipelines(delivery, event, repository, deps));
  } catch (error) {
    if (isGustError(error) && error.retryable) throw error;
    return finish(delivery, deps, { status: "failed", reason: error instanceof Error ? error.message : String(error) });
  }
}

async function createPipelines(delivery: StoredDelivery, event: RunEvent, repository: KnownRepository, deps: DeliveryProcessorDeps): Promise<DeliveryResult> {
  const forge = await deps.forgeFor(repository);
  const { sha } = event.context;
  const files = await forge.listPipelineFiles(repository.fullName, sha);
  if (files.length === 0) return { status: "ignored", reason: `no pipeline file (.gust.yml or .gust/*.yml) at ${sha.slice(0, 12)}` };
  const changedFiles = await forge.changedFiles(repository.fullName, event).catch((error: unknown) => {
    // Unknown changes let path filters pass: better an extra run than a missed one.
    deps.warn(`changed files of ${repository.fullName}@${sha.slice(0, 12)} unknown: ${(error as Error).message}`);
    return undefined;
  });
  const context: EventContext = { ...event.context, ...(changedFiles ? { changedFiles } : {}) };
  const repositoryName = repository.fullName.split("/").pop() ?? repository.fullName;

  const created: Array<{ id: number; number: number; name: string }> = [];
  const notTriggered: string[] = [];
  for (const file of files) {
    const name = defaultPipelineName(file.path, repositoryName);
    const parsed = parsePipeline(file.text, file.path, name);
    let input: NewPipeline;
    if (!parsed.ok) {
      const message = parsed.diagnostics.map((d) => formatDiagnostic(d, (line) => parsed.source.sourceLine(line))).join("\n\n");
      input = { error: message, file: file.path, name, event: context };
    } else {
      const planned = planPipeline(parsed.pipeline, context);
      if (!planned.ok) {
        input = { error: planned.problems.map((p) => `${file.path}: ${p.path}: ${p.message}`).join("\n"), file: file.path, name: parsed.pipeline.name, event: context };
      } else if (!planned.plan.triggered) {
        notTriggered.push(`${parsed.pipeline.name}: ${planned.plan.reason}`);
        continue;
      } else {
        input = { plan: planned.plan };
      }
    }
    const pipeline = await deps.createPipeline({ ...input, repositoryId: repository.id, deliveryId: delivery.id, fromFork: event.fromFork });
    created.push({ ...pipeline, name: "plan" in input ? input.plan.pipeline.name : input.name });
  }
  if (created.length === 0) return { status: "ignored", reason: `no pipeline runs for this event: ${notTriggered.join("; ")}` };
  return { status: "processed", pipelines: created, notTriggered };
}

async function finish(delivery: StoredDelivery, deps: DeliveryProcessorDeps, result: DeliveryResult): Promise<DeliveryResult> {
  const detail =
    result.status === "processed"
      ? `created ${result.pipelines.map((p) => `${p.name} #${p.number}`).join(", ")}${result.notTriggered.length ? `; not triggered: ${result.notTriggered.join("; ")}` : ""}`
      : result.reason;
  await deps.markDelivery(delivery.id, result.status, detail);
  return result;
}
