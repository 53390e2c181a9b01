// Use case: run a repository's pipelines by hand (`on: manual`). The ref (default: the default
// branch) is resolved to a commit through the forge, the request is stored as a `gust`/`manual`
// delivery — durable like a webhook — and processed at once. A forge or database that is down
// leaves the delivery pending for the delivery worker, and the caller is told so.
import { randomUUID } from "node:crypto";
import { ForgeError, GustError, InputError, isGustError } from "../errors";
import type { Forge } from "../forges/forge";
import type { Scalar } from "../pipeline";
import { INTERNAL_FORGE, type InternalPayload } from "./internal-events";
import { processDelivery, type DeliveryProcessorDeps, type KnownRepository, type StoredDelivery } from "./process-delivery";

export type TriggerResult =
  | { status: "created"; sha: string; ref: string; pipelines: Array<{ id: number; number: number; name: string; status: string }> }
  | { status: "not_triggered"; sha: string; ref: string; reason: string }
  | { status: "pending"; deliveryId: number };

export interface TriggerRequest {
  /** Branch, tag, full ref or sha; default the repository's default branch. */
  ref?: string;
  inputs?: Record<string, Scalar>;
  /** Only the pipeline with this name or file. */
  pipeline?: string;
  /** Who asked (a token's name), kept with the delivery. */
  actor?: string;
}

export interface TriggerDeps {
  getRepository(id: number): Promise<KnownRepository | undefined>;
  forgeFor(repository: KnownRepository): Promise<Forge>;
  /** Stores the delivery; (forge, deliveryId) is unique. */
  recordDelivery(delivery: { forge: string; deliveryId: string; event: string; repositoryId: number; payload: InternalPayload }): Promise<{ status: "created" | "duplicate"; id: number }>;
  /** The same processing the delivery worker does. */
  processor: DeliveryProcessorDeps;
  /** Hands a delivery whose processing failed retryably to the delivery worker, which retries with backoff. */
  retryLater(deliveryId: number): void;
}

export async function triggerPipeline(repositoryId: number, request: TriggerRequest, deps: TriggerDeps): Promise<TriggerResult> {
  checkRequest(repositoryId, request);
  const repository = await deps.getRepository(repositoryId);
  if (!repository) throw new InputError(`repository ${repositoryId} does not exist`, "repository_not_found");
  const forge = await deps.forgeFor(repository);
  const ref = request.ref?.trim() || (await forge.defaultBranch(repository.fullName));
  let resolved;
  try {
    resolved = await forge.resolveRef(repository.fullName, ref);
  } catch (error) {
    if (error instanceof ForgeError && error.code === "forge_not_found") throw new InputError(`ref: ${error.message}`, "ref_not_found", error);
    throw error;
  }

  const payload: InternalPayload = {
    repositoryId,
    ref: resolved.ref,
    sha: resolved.sha,
    ...(resolved.branch !== undefined ? { branch: resolved.branch } : {}),
    ...(resolved.tag !== undefined ? { tag: resolved.tag } : {}),
    ...(request.inputs && Object.keys(request.inputs).length > 0 ? { inputs: request.inputs } : {}),
    ...(request.pipeline !== undefined ? { pipeline: request.pipeline } : {}),
    ...(request.actor !== undefined ? { actor: request.actor } : {}),
  };
  const recorded = await deps.recordDelivery({ forge: INTERNAL_FORGE, deliveryId: randomUUID(), event: "manual", repositoryId, payload });
  const delivery: StoredDelivery = { id: recorded.id, forge: INTERNAL_FORGE, event: "manual", payload, repositoryId };

  let result;
  try {
    result = await processDelivery(delivery, deps.processor);
  } catch (error) {
    if (!isGustError(error) || !error.retryable) throw error;
    deps.retryLater(delivery.id);
    return { status: "pending", deliveryId: delivery.id };
  }
  switch (result.status) {
    case "processed":
      return { status: "created", sha: payload.sha, ref: payload.ref, pipelines: result.pipelines.map(({ id, number, name, status }) => ({ id, number, name, status })) };
    case "ignored":
      return { status: "not_triggered", sha: payload.sha, ref: payload.ref, reason: result.reason };
    case "failed":
      // Bad inputs come back as the InputError the processor met; a forge refusing as its ForgeError.
      if (result.error instanceof Error) throw result.error;
      throw new GustError(result.reason, { fault: "internal", retryable: false, code: "trigger_failed" });
  }
}

function checkRequest(repositoryId: number, request: TriggerRequest): void {
  if (!Number.isSafeInteger(repositoryId) || repositoryId < 1) throw new InputError(`repository id: expected a whole number, got ${repositoryId}`, "invalid_request");
  if (request.ref !== undefined && (typeof request.ref !== "string" || request.ref.trim() === "")) {
    throw new InputError("ref: expected a branch, tag or commit", "invalid_request");
  }
  if (request.pipeline !== undefined && (typeof request.pipeline !== "string" || request.pipeline.trim() === "")) {
    throw new InputError("pipeline: expected a pipeline name or file", "invalid_request");
  }
  if (request.inputs !== undefined) {
    if (request.inputs === null || typeof request.inputs !== "object" || Array.isArray(request.inputs)) throw new InputError("inputs: expected an object", "invalid_request");
    for (const [name, value] of Object.entries(request.inputs)) {
      if (!["string", "number", "boolean"].includes(typeof value)) throw new InputError(`inputs.${name}: expected a string, number or boolean`, "invalid_request");
    }
  }
}
