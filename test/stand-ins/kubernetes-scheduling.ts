// The simulated scheduler's one decision: does the pod fit the node? Its effective requests (the
// sum over containers, or the largest init container's if more, requests defaulting to limits) must
// fit the node's cpu and memory, and its nodeSelector must match the node's labels. The message is
// the one FailedScheduling events and the PodScheduled condition carry.
import { parseQuantity } from "./kubernetes-quantity";
import type { ContainerSpec, Pod } from "./kubernetes-types";

export interface NodeShape {
  cpu: string;
  memory: string;
  labels: Record<string, string>;
}

function request(container: ContainerSpec, resource: string): number {
  const value = container.resources?.requests?.[resource] ?? container.resources?.limits?.[resource];
  return value === undefined ? 0 : (parseQuantity(value) ?? 0);
}

function podRequest(pod: Pod, resource: string): number {
  const sum = pod.spec.containers.reduce((total, container) => total + request(container, resource), 0);
  return Math.max(sum, ...(pod.spec.initContainers ?? []).map((container) => request(container, resource)));
}

/** Why the pod cannot be scheduled, or undefined when it fits. */
export function unschedulableMessage(pod: Pod, node: NodeShape): string | undefined {
  const selector = (pod.spec.nodeSelector ?? {}) as Record<string, string>;
  if (Object.entries(selector).some(([key, value]) => node.labels[key] !== value)) {
    return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
  }
  const short = ["cpu", "memory"].filter((resource) => podRequest(pod, resource) > (parseQuantity(node[resource as "cpu" | "memory"]) ?? 0));
  if (short.length === 0) return undefined;
  return `0/1 nodes are available: ${short.map((resource) => `1 Insufficient ${resource}`).join(", ")}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.`;
}
