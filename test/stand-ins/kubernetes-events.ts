// core/v1 Events the simulated scheduler and kubelet record about pods (Scheduled, FailedScheduling,
// FailedMount, Failed, BackOff, Killing, DeadlineExceeded). A repeat of the same reason and message
// for the same pod bumps `count` and `lastTimestamp` of the existing event, as the event recorder
// aggregates them.
import { randomUUID } from "node:crypto";
import type { ResourceStore } from "./kubernetes-store";
import { rfc3339, type CoreEvent, type Pod } from "./kubernetes-types";

export class EventRecorder {
  /** Pod uid → "reason|message" → event name. */
  private readonly recent = new Map<string, Map<string, string>>();
  private sequence = 0n;

  constructor(
    private readonly events: ResourceStore<CoreEvent>,
    private readonly now: () => number,
  ) {}

  record(pod: Pod, type: CoreEvent["type"], reason: string, message: string, component: "default-scheduler" | "kubelet" = "kubelet"): void {
    const namespace = pod.metadata.namespace ?? "default";
    const key = `${reason}|${message}`;
    const stamp = rfc3339(this.now());
    let recent = this.recent.get(pod.metadata.uid ?? "");
    if (!recent) this.recent.set(pod.metadata.uid ?? "", (recent = new Map()));
    const existing = recent.get(key);
    if (existing && this.events.modify(namespace, existing, (event) => {
      event.count += 1;
      event.lastTimestamp = stamp;
    })) return;
    // The recorder names events "<object>.<hex of the unix nanoseconds>", so names sort by time.
    const nanos = BigInt(this.now()) * 1_000_000n;
    this.sequence = nanos > this.sequence ? nanos : this.sequence + 1n;
    const name = `${pod.metadata.name}.${this.sequence.toString(16)}`;
    recent.set(key, name);
    this.events.insert({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace, uid: randomUUID(), creationTimestamp: stamp },
      involvedObject: { kind: "Pod", namespace, name: pod.metadata.name, uid: pod.metadata.uid ?? "", apiVersion: "v1", resourceVersion: pod.metadata.resourceVersion },
      reason,
      message,
      type,
      source: component === "kubelet" ? { component, host: pod.spec.nodeName } : { component },
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
      reportingComponent: component,
      reportingInstance: component === "kubelet" ? (pod.spec.nodeName ?? "") : "",
    });
  }

  /** Forgets the aggregation keys of a pod that is gone (its events stay, as they do until their TTL). */
  forget(uid: string): void {
    this.recent.delete(uid);
  }
}
