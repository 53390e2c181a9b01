// Pure decisions of the SAE provider: what the application serves now (a view read from SAE, turned
// into a TrafficSplit), and the next call that brings it closer to the split Gust wants. The
// provider loops observe → nextStep → call until the step is "done"; nothing here does I/O, so every
// case (a change order of someone else, a weight going down, a route added mid-way) is decided in
// one place and tested without a service.
import type { TrafficRoute, TrafficSplit } from "../deploy-provider";

/**
 * A change order as Gust needs it: running (0, 1, 9, 11, 12), waiting for a manual batch (8), stuck
 * (a batch failed and SAE keeps the order open until someone rolls it back: SubStatus 1), or over.
 */
export type OrderPhase = "running" | "waiting" | "stuck" | "succeeded" | "failed" | "terminated";

export function orderPhase(status: number, subStatus?: number): OrderPhase {
  if (status === 2) return "succeeded";
  if (status === 3 || status === 10) return "failed";
  if (status === 6) return "terminated";
  if (subStatus === 1) return "stuck";
  return status === 8 ? "waiting" : "running";
}

export function isActive(phase: OrderPhase): boolean {
  return phase === "running" || phase === "waiting" || phase === "stuck";
}

export interface OrderView {
  id: string;
  phase: OrderPhase;
  /** The batch SAE waits on (phase "waiting"). */
  waitingPipelineId?: string;
  errorMessage?: string;
}

/** What SAE says about the application, read fresh before every decision. */
export interface SaeView {
  /** Instances the application runs (DescribeApplicationConfig Replicas). */
  replicas: number;
  /** The version the newest deployment installs: the configuration's image or package version. */
  configured: string | null;
  /** Running instances per version. */
  running: Record<string, number>;
  /** The newest change order, when it is still active or ended in a failure. */
  order?: OrderView;
  /** Whether the newest deployment enabled grey tag routing (DescribeApplicationConfig EnableGreyTagRoute). */
  greyTagRouteEnabled: boolean;
  /** Gust's grey tag route, when one exists. */
  route?: TrafficRoute;
}

/** Instances that carry a weight: at least one for any weight above 0, rounded up, at most all. */
export function instancesForWeight(weight: number, replicas: number): number {
  if (weight <= 0 || replicas <= 0) return 0;
  // The tolerance keeps a weight this module reported (100·k/N in floating point) at k instances.
  return Math.min(replicas, Math.max(1, Math.ceil((weight * replicas) / 100 - 1e-6)));
}

/** The share of k instances out of N, in percent: never less than the weight that asked for k. */
export function weightOfInstances(instances: number, replicas: number): number {
  return replicas <= 0 ? 0 : (instances * 100) / replicas;
}

/**
 * The UpdateStrategy that puts `instances` on the new version first and then waits: a gray batch of
 * at most half the instances (SAE's rule), then one instance per manual batch so that any larger
 * count is reached by confirming batches one by one. Undefined: deploy everything at once (SAE
 * cannot batch a single instance).
 */
export function grayStrategy(instances: number, replicas: number): { gray: number; batch: number; json: string } | undefined {
  if (replicas < 2 || instances >= replicas) return undefined;
  const gray = Math.max(1, Math.min(instances, Math.floor(replicas / 2)));
  const batch = replicas - gray;
  const json = JSON.stringify({ type: "GrayBatchUpdate", grayUpdate: { gray }, batchUpdate: { batch, releaseType: "manual" } });
  return { gray, batch, json };
}

/** What the application serves, as a TrafficSplit (the version running on most instances is stable). */
export function splitOf(view: SaeView): TrafficSplit {
  const configured = view.configured;
  const others = Object.entries(view.running)
    .filter(([version, count]) => version !== configured && count > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const onConfigured = configured ? (view.running[configured] ?? 0) : 0;
  const old = others[0]?.[0];
  if (!old || !configured) return { stable: configured ?? old ?? null };
  if (onConfigured === 0) return { stable: old };
  const split: TrafficSplit = { stable: old, canary: { version: configured, weight: weightOfInstances(onConfigured, view.replicas) } };
  if (view.route && view.greyTagRouteEnabled && view.order && isActive(view.order.phase)) split.route = view.route;
  return split;
}

/** Where the provider is taking the application. */
export type Goal =
  | { kind: "alone"; version: string }
  | { kind: "canary"; stable: string; version: string; instances: number; route?: TrafficRoute };

/** The goal for a split: a canary that needs every instance is the canary serving alone. */
export function goalOf(split: TrafficSplit, replicas: number): Goal {
  if (split.stable === null && !split.canary) throw new Error("a split without a stable version has no goal");
  const canary = split.canary;
  if (!canary || canary.version === split.stable) return { kind: "alone", version: split.stable! };
  const wanted = Math.max(instancesForWeight(canary.weight, replicas), split.route ? 1 : 0);
  if (wanted === 0) return { kind: "alone", version: split.stable! };
  if (wanted >= replicas || split.stable === null) return { kind: "alone", version: canary.version };
  return { kind: "canary", stable: split.stable, version: canary.version, instances: wanted, ...(split.route ? { route: split.route } : {}) };
}

export type Step =
  | { kind: "done" }
  /** A change order is on its way: look again after the poll interval. */
  | { kind: "wait" }
  | { kind: "confirm"; pipelineId: string }
  /** Stop the active change order and put its instances back (AbortAndRollbackChangeOrder). */
  | { kind: "abort"; changeOrderId: string }
  /** Start a change order from a settled application: `version` on `instances` (all when undefined). */
  | { kind: "deploy"; version: string; instances?: number; greyTagRoute: boolean }
  | { kind: "set-route"; route: TrafficRoute }
  | { kind: "delete-route" }
  /** The goal cannot be reached this way: a permanent failure with SAE's reason. */
  | { kind: "fail"; message: string };

function sameRoute(a: TrafficRoute | undefined, b: TrafficRoute | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The next call towards `goal` from what SAE shows now. */
export function nextStep(view: SaeView, goal: Goal): Step {
  const order = view.order && isActive(view.order.phase) ? view.order : undefined;
  const split = splitOf(view);
  if (order) {
    // The order installs the configured version over `old` (undefined once every instance has it).
    const inFlight = view.configured;
    const old = split.stable === inFlight ? undefined : split.stable;
    const onNew = inFlight ? (view.running[inFlight] ?? 0) : 0;
    const ours = inFlight === goal.version && (goal.kind === "alone" || old === undefined || old === goal.stable);
    if (!ours || (goal.kind === "canary" && goal.route && !view.greyTagRouteEnabled)) return { kind: "abort", changeOrderId: order.id };
    if (order.phase === "stuck") return { kind: "fail", message: failure(order) };
    if (goal.kind === "alone") return order.phase === "waiting" ? confirm(order) : { kind: "wait" };
    // Instances never go back within an order: fewer than it already moved means starting over.
    if (onNew > goal.instances) return { kind: "abort", changeOrderId: order.id };
    if (order.phase === "running") return { kind: "wait" };
    if (onNew < goal.instances) return confirm(order);
    if (!sameRoute(view.route, goal.route)) return goal.route ? { kind: "set-route", route: goal.route } : { kind: "delete-route" };
    return { kind: "done" };
  }

  // No change order runs: the application is settled (on one version, or mixed after a failure).
  const settledOn = split.canary ? undefined : split.stable;
  if (goal.kind === "alone") {
    if (settledOn !== goal.version) return { kind: "deploy", version: goal.version, greyTagRoute: false };
    return view.route ? { kind: "delete-route" } : { kind: "done" };
  }
  if (settledOn !== goal.stable) return { kind: "deploy", version: goal.stable, greyTagRoute: false };
  if (!sameRoute(view.route, goal.route)) return goal.route ? { kind: "set-route", route: goal.route } : { kind: "delete-route" };
  return { kind: "deploy", version: goal.version, instances: goal.instances, greyTagRoute: goal.route !== undefined };
}

function confirm(order: OrderView): Step {
  return order.waitingPipelineId ? { kind: "confirm", pipelineId: order.waitingPipelineId } : { kind: "wait" };
}

export function failure(order: OrderView): string {
  return `SAE change order ${order.id} ${order.phase === "terminated" ? "was terminated" : "failed"}${order.errorMessage ? `: ${order.errorMessage}` : ""}`;
}
