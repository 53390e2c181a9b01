// The delivery processor wired to real stores on a test database and a LocalForge, as
// src/main/serve.ts wires it: for the trigger and schedule tests.
import type { DeliveryProcessorDeps } from "../../src/app/process-delivery";
import type { Forge } from "../../src/forges/forge";
import { normalizeEvent } from "../../src/main/forges";
import { DeliveriesStore, JobQueue, PipelinesStore, RepositoriesStore, type Database } from "../../src/store";
import { sealer } from "../store/fixtures";

export function storeProcessor(database: Database, forge: Forge, warnings: string[] = []): DeliveryProcessorDeps & { deliveries: DeliveriesStore; pipelines: PipelinesStore } {
  const deliveries = new DeliveriesStore(database);
  const repositories = new RepositoriesStore(database, sealer);
  const pipelines = new PipelinesStore(database);
  const queue = new JobQueue(database);
  return {
    deliveries,
    pipelines,
    normalize: normalizeEvent,
    findRepository: (forgeName, fullName) => repositories.findRepository(forgeName, fullName),
    getRepository: (id) => repositories.getRepository(id),
    forgeFor: async () => forge,
    createPipeline: (input) => pipelines.createPipeline(input),
    markDelivery: (id, status, detail) => deliveries.markDelivery(id, status, detail),
    cancelInProgress: (pipelineId) => queue.cancelInProgress(pipelineId),
    warn: (message) => void warnings.push(message),
  };
}
