// Use case: a stored delivery (a webhook, a manual trigger, a schedule tick) becomes pipelines.
// The event is normalized, the pipeline files are read at the exact commit through the forge,
// each selected file is parsed and planned, and every triggered (or broken) file becomes a
// pipeline in one transaction of the store. Runs after the 202, and again at start for deliveries
// a crash left pending.
import { InputError, isGustError } from "../errors";
import type { Forge, NormalizedEvent, RunEvent } from "../forges/forge";
import { defaultPipelineName, formatDiagnostic, matchTrigger, parsePipeline, planPipeline, type EventContext, type Pipeline, type Plan } from "../pipeline";
import { isInputProblem, manualInputsFor, missingScheduleEntry, selectFiles, type ParsedFile } from "./pipeline-selection";

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
  createPipeline(input: NewPipeline & { repositoryId: number; deliveryId: number; fromFork: boolean }): Promise<{ id: number; number: number; status?: string }>;
  markDelivery(id: number, status: "processed" | "ignored" | "failed", detail: string): Promise<unknown>;
  /**
   * `concurrency: {cancel-in-progress: true}`: cancels the older unfinished runs of the new
   * pipeline's group and has their running jobs stopped. Absent: nothing is cancelled.
   */
  cancelInProgress?(pipelineId: number): Promise<unknown>;
  /**
   * Told once a delivery of a registered repository was handled (not when it is left pending for
   * a retry), e.g. so the schedule ticker re-reads schedules after a push to the default branch.
   */
  onEvent?(event: RunEvent, repository: KnownRepository): void;
  warn(message: string): void;
}

export interface CreatedRun {
  id: number;
  number: number;
  name: string;
  /** As created: pending, running, or error for a broken file. */
  status: string;
}

export type DeliveryResult =
  | { status: "processed"; pipelines: CreatedRun[]; notTriggered: string[] }
  | { status: "ignored"; reason: string }
  /** `error`: what was thrown, for callers that answer a person (a manual trigger's bad input). */
  | { status: "failed"; reason: string; error?: unknown };

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
  let result: DeliveryResult;
  try {
    result = await finish(delivery, deps, await createPipelines(delivery, event, repository, deps));
  } catch (error) {
    if (isGustError(error) && error.retryable) throw error;
    result = await finish(delivery, deps, { status: "failed", reason: error instanceof Error ? error.message : String(error), error });
  }
  try {
    deps.onEvent?.(event, repository);
  } catch (error) {
    deps.warn(`after delivery ${delivery.id}: ${(error as Error).message}`);
  }
  return result;
}

type Planned = { input: NewPipeline; name: string; cancelInProgress: boolean };

async function createPipelines(delivery: StoredDelivery, event: RunEvent, repository: KnownRepository, deps: DeliveryProcessorDeps): Promise<DeliveryResult> {
  const forge = await deps.forgeFor(repository);
  const { sha } = event.context;
  const listed = await forge.listPipelineFiles(repository.fullName, sha);
  if (listed.length === 0) return { status: "ignored", reason: `no pipeline file (.gust.yml or .gust/*.yml) at ${sha.slice(0, 12)}` };
  const repositoryName = repository.fullName.split("/").pop() ?? repository.fullName;
  const parsedFiles = listed.map((file): ParsedFile => {
    const parsed = parsePipeline(file.text, file.path, defaultPipelineName(file.path, repositoryName));
    return { path: file.path, name: parsed.ok ? parsed.pipeline.name : defaultPipelineName(file.path, repositoryName), parsed };
  });
  const selected = selectFiles(parsedFiles, event.selection, sha);
  if (!selected.ok) return { status: "ignored", reason: selected.reason };

  const changedFiles = await forge.changedFiles(repository.fullName, event).catch((error: unknown) => {
    // Unknown changes let path filters pass: better an extra run than a missed one.
    deps.warn(`changed files of ${repository.fullName}@${sha.slice(0, 12)} unknown: ${(error as Error).message}`);
    return undefined;
  });
  const context: EventContext = { ...event.context, ...(changedFiles ? { changedFiles } : {}) };

  // Everything is planned before anything is created: bad manual inputs create nothing.
  const { planned, notTriggered, inputProblems } = planFiles(selected.files, context, event);
  if (inputProblems.length > 0) throw new InputError(`invalid inputs: ${inputProblems.join("; ")}`, "invalid_inputs");

  const created: CreatedRun[] = [];
  for (const { input, name, cancelInProgress } of planned) {
    const pipeline = await deps.createPipeline({ ...input, repositoryId: repository.id, deliveryId: delivery.id, fromFork: event.fromFork });
    created.push({ id: pipeline.id, number: pipeline.number, name, status: pipeline.status ?? ("plan" in input ? "pending" : "error") });
    if (cancelInProgress && deps.cancelInProgress) {
      // The new run exists: failing to cancel the older ones must not make a retry create it twice.
      await deps.cancelInProgress(pipeline.id).catch((error: unknown) => deps.warn(`cancel-in-progress after pipeline ${pipeline.id}: ${(error as Error).message}`));
    }
  }
  if (created.length === 0) return { status: "ignored", reason: `no pipeline runs for this event: ${notTriggered.join("; ")}` };
  return { status: "processed", pipelines: created, notTriggered };
}

function planFiles(files: ParsedFile[], context: EventContext, event: RunEvent): { planned: Planned[]; notTriggered: string[]; inputProblems: string[] } {
  const planned: Planned[] = [];
  const notTriggered: string[] = [];
  const inputProblems = new Set<string>();
  const pipelines = files.flatMap((file) => (file.parsed.ok ? [file.parsed.pipeline] : []));
  const manualPipelines = pipelines.filter((pipeline) => pipeline.triggers.manual && matchTrigger(pipeline.triggers, context).matched);
  for (const file of files) {
    const { parsed } = file;
    if (!parsed.ok) {
      const message = parsed.diagnostics.map((d) => formatDiagnostic(d, (line) => parsed.source.sourceLine(line))).join("\n\n");
      planned.push({ input: { error: message, file: file.path, name: file.name, event: context }, name: file.name, cancelInProgress: false });
      continue;
    }
    const pipeline: Pipeline = parsed.pipeline;
    // Matched before planning: a file without the event's trigger does not run, so the manual
    // inputs it does not declare are not its problem.
    const gone = missingScheduleEntry(pipeline, event.selection);
    const trigger = gone ? { matched: false, reason: gone } : matchTrigger(pipeline.triggers, context);
    if (!trigger.matched) {
      notTriggered.push(`${pipeline.name}: ${trigger.reason}`);
      continue;
    }
    const inputs = context.event === "manual" ? manualInputsFor(pipeline, context.inputs ?? {}, manualPipelines) : context.inputs;
    const result = planPipeline(pipeline, { ...context, ...(inputs ? { inputs } : {}) });
    if (!result.ok) {
      const bad = result.problems.filter(isInputProblem);
      if (context.event === "manual" && bad.length > 0) {
        for (const problem of bad) inputProblems.add(manualPipelines.length > 1 ? `${pipeline.name}: ${problem.message}` : problem.message);
        continue;
      }
      const error = result.problems.map((p) => `${file.path}: ${p.path}: ${p.message}`).join("\n");
      planned.push({ input: { error, file: file.path, name: pipeline.name, event: context }, name: pipeline.name, cancelInProgress: false });
      continue;
    }
    if (!result.plan.triggered) {
      notTriggered.push(`${pipeline.name}: ${result.plan.reason}`);
      continue;
    }
    planned.push({ input: { plan: result.plan }, name: result.plan.pipeline.name, cancelInProgress: result.plan.concurrency?.cancelInProgress === true });
  }
  return { planned, notTriggered, inputProblems: [...inputProblems] };
}

async function finish(delivery: StoredDelivery, deps: DeliveryProcessorDeps, result: DeliveryResult): Promise<DeliveryResult> {
  const detail =
    result.status === "processed"
      ? `created ${result.pipelines.map((p) => `${p.name} #${p.number}`).join(", ")}${result.notTriggered.length ? `; not triggered: ${result.notTriggered.join("; ")}` : ""}`
      : result.reason;
  await deps.markDelivery(delivery.id, result.status, detail);
  return result;
}
