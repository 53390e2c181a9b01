// The pod annotations Alibaba Cloud ECI reads at creation (instance size, spot, image cache,
// storage, identity). Only what is configured is written; other clusters ignore them all.
import type { EciPodOptions } from "./pod-options";
import type { PodResources } from "./pod-resources";

const PREFIX = "k8s.aliyun.com/";

export function eciAnnotations(eci: EciPodOptions, resources: PodResources): Record<string, string> {
  const annotations: Record<string, string> = {};
  const specs = eci.useSpecs ? eciSpec(resources) : undefined;
  if (specs !== undefined) annotations[`${PREFIX}eci-use-specs`] = specs;
  if (eci.spotStrategy !== undefined) annotations[`${PREFIX}eci-spot-strategy`] = eci.spotStrategy;
  if (eci.spotPriceLimit !== undefined) annotations[`${PREFIX}eci-spot-price-limit`] = eci.spotPriceLimit;
  if (eci.spotFallback !== undefined) annotations[`${PREFIX}eci-spot-fallback`] = String(eci.spotFallback);
  if (eci.autoImageCache) annotations[`${PREFIX}eci-auto-imc`] = "true";
  if (eci.imageCacheId !== undefined) annotations[`${PREFIX}eci-imc-id`] = eci.imageCacheId;
  if (eci.extraEphemeralStorage !== undefined) annotations[`${PREFIX}eci-extra-ephemeral-storage`] = eci.extraEphemeralStorage;
  if (eci.ramRoleName !== undefined) annotations[`${PREFIX}eci-ram-role-name`] = eci.ramRoleName;
  if (eci.maxPendingMinutes !== undefined) annotations[`${PREFIX}eci-max-pending-minute`] = String(eci.maxPendingMinutes);
  return annotations;
}

const QUARTER_CORE = 250n; // millicores: ECI's smallest vCPU size and step
const HALF_GIB = 512n * 1024n * 1024n; // ECI's smallest memory size and step

/**
 * `<vCPU>-<GiB>Gi` for `eci-use-specs`, e.g. 2 cores + 4Gi → "2-4Gi". ECI takes vCPUs and GiB and
 * rounds a pair it has no instance for up to the nearest one it has, so the job's values are only
 * rounded up to ECI's granularity here (0.25 vCPU, 0.5 GiB; 500m + 1.2Gi → "0.5-1.5Gi"), never
 * down. When the job sets one of the two, the other follows ECI's default ratio of 1 vCPU to 2 GiB.
 * Undefined when the job sets neither: ECI then sizes the pod from its containers.
 */
export function eciSpec(resources: PodResources): string | undefined {
  const { cpuMillis, memoryBytes } = resources;
  if (cpuMillis === undefined && memoryBytes === undefined) return undefined;
  // At 1 vCPU : 2 GiB, a quarter core goes with half a GiB: the missing count equals the other.
  const quarters = cpuMillis === undefined ? undefined : ceilDiv(cpuMillis, QUARTER_CORE);
  const halves = memoryBytes === undefined ? undefined : ceilDiv(memoryBytes, HALF_GIB);
  return `${decimal(max(quarters ?? halves ?? 1n, 1n), 4n)}-${decimal(max(halves ?? quarters ?? 1n, 1n), 2n)}Gi`;
}

function ceilDiv(value: bigint, divisor: bigint): bigint {
  return (value + divisor - 1n) / divisor;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** `parts / per` as a short decimal: 9/4 → "2.25", 8/4 → "2", 1/2 → "0.5". */
function decimal(parts: bigint, per: bigint): string {
  const whole = parts / per;
  const rest = parts % per;
  if (rest === 0n) return String(whole);
  const fraction = String((rest * 100n) / per).padStart(2, "0").replace(/0+$/, "");
  return `${whole}.${fraction}`;
}
