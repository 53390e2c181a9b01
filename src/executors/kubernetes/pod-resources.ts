// A job's `resources` spread over the containers of its pod. Kubernetes (and ECI, which sizes the
// instance from them) adds up the requests of the regular containers and takes the larger of that
// and each init container's, so requests are split across the regular containers (the remainder to
// the first) and the pod as a whole asks for exactly what the job asked for. Steps run one after
// another, so each container may use the job's whole allowance: its limits are the full amount.
// Requests are always written, also "0": a container with limits and no requests would get
// requests equal to its limits.
import type { V1ResourceRequirements } from "@kubernetes/client-node";
import { InputError } from "../../errors";
import { formatCpu, formatMemory, NANO, parseQuantity } from "./quantity";

/** The job's allowance: millicores and bytes, each absent when neither the job nor the default sets it. */
export interface PodResources {
  cpuMillis?: bigint;
  memoryBytes?: bigint;
}

/** Per field: the job's value, else the configured default. Throws InputError on a bad quantity. */
export function resolvePodResources(
  job: { jobKey: string; resources?: { cpu?: string; memory?: string } },
  defaults: { cpu?: string; memory?: string } | undefined,
): PodResources {
  const cpu = job.resources?.cpu ?? defaults?.cpu;
  const memory = job.resources?.memory ?? defaults?.memory;
  const from = (field: "cpu" | "memory"): string =>
    job.resources?.[field] !== undefined ? `job "${job.jobKey}": resources.${field}` : `the default resources.${field}`;
  const resources: PodResources = {};
  if (cpu !== undefined) resources.cpuMillis = wholeUnits(cpu, NANO / 1000n, `${from("cpu")} ${JSON.stringify(cpu)}`, "cores such as 2, 0.5 or 500m");
  if (memory !== undefined) resources.memoryBytes = wholeUnits(memory, NANO, `${from("memory")} ${JSON.stringify(memory)}`, "a size such as 512Mi or 4Gi");
  return resources;
}

/**
 * `text` in whole `unit`s (millicores, bytes), rounded up: Kubernetes has no finer CPU than 1m,
 * and "1.2Gi" is not a whole number of bytes. Rounding up once here keeps the split exact.
 */
function wholeUnits(text: string, unit: bigint, what: string, expected: string): bigint {
  const nano = parseQuantity(text);
  if (nano === undefined) throw new InputError(`${what} is not a Kubernetes quantity: expected ${expected}`, "invalid_resources");
  if (nano === 0n) throw new InputError(`${what} must be more than 0`, "invalid_resources");
  return (nano + unit - 1n) / unit;
}

/**
 * `total` in `parts` shares that add up to it exactly, each a whole number of `granule` (when
 * `total` is one) so they read well ("585Mi", not "613566756"); the remainder goes to the first.
 */
export function splitEvenly(total: bigint, parts: number, granule = 1n): bigint[] {
  if (parts < 1) return [];
  const unit = total % granule === 0n ? granule : 1n;
  const share = (total / unit / BigInt(parts)) * unit;
  const shares = Array.from({ length: parts }, () => share);
  shares[0] = share + (total - share * BigInt(parts));
  return shares;
}

const MEBIBYTE = 1024n * 1024n;

/**
 * Resource requirements for `count` regular containers (in pod order) and for the init container,
 * or undefined everywhere when the job has no resources at all (a plain cluster needs none).
 */
export function containerResources(
  resources: PodResources,
  count: number,
): { regular: (V1ResourceRequirements | undefined)[]; init: V1ResourceRequirements | undefined } {
  const { cpuMillis, memoryBytes } = resources;
  if (cpuMillis === undefined && memoryBytes === undefined) {
    return { regular: Array.from({ length: count }, () => undefined), init: undefined };
  }
  const limits: Record<string, string> = {};
  if (cpuMillis !== undefined) limits.cpu = formatCpu(cpuMillis);
  if (memoryBytes !== undefined) limits.memory = formatMemory(memoryBytes);
  const cpuShares = cpuMillis === undefined ? [] : splitEvenly(cpuMillis, count);
  const memoryShares = memoryBytes === undefined ? [] : splitEvenly(memoryBytes, count, MEBIBYTE);
  const regular = Array.from({ length: count }, (_, index) => {
    const requests: Record<string, string> = {};
    const cpu = cpuShares[index];
    const memory = memoryShares[index];
    if (cpu !== undefined) requests.cpu = formatCpu(cpu);
    if (memory !== undefined) requests.memory = formatMemory(memory);
    return { requests, limits: { ...limits } };
  });
  // The init container runs alone before the others: it may request the whole allowance without
  // raising the pod's total, which is the larger of the two.
  return { regular, init: { requests: { ...limits }, limits: { ...limits } } };
}
