// Pure pod-status arithmetic of the simulated kubelet: container states, the phase the kubelet derives
// from them (its getPhase for restartPolicy Never: a container not yet started keeps the pod Pending,
// any running one makes it Running, all terminated make it Succeeded or Failed), and the conditions.
// containerStatuses are kept sorted by name as the kubelet sorts them; initContainerStatuses in
// spec order. Timestamps have whole seconds, as metav1.Time does.
import { createHash } from "node:crypto";
import { parseQuantity } from "./kubernetes-quantity";
import { rfc3339, type ContainerSpec, type ContainerState, type ContainerStatus, type Pod, type PodCondition, type PodSpec, type PodStatus } from "./kubernetes-types";

export function qosClass(spec: PodSpec): string {
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const resources = containers.map((container) => container.resources ?? {});
  const any = resources.some((resource) => Object.keys(resource.requests ?? {}).length + Object.keys(resource.limits ?? {}).length > 0);
  if (!any) return "BestEffort";
  const guaranteed = resources.every((resource) =>
    ["cpu", "memory"].every((name) => {
      const limit = resource.limits?.[name];
      const request = resource.requests?.[name] ?? limit;
      return limit !== undefined && parseQuantity(limit) === parseQuantity(request!);
    }),
  );
  return guaranteed ? "Guaranteed" : "Burstable";
}

function imageId(image: string): string {
  const digest = createHash("sha256").update(image).digest("hex");
  const name = image.split("@")[0]!.replace(/:[^/:]+$/, "");
  return `${name.includes("/") ? name : `docker.io/library/${name}`}@sha256:${digest}`;
}

export function waitingStatus(container: ContainerSpec, reason: string, message?: string): ContainerStatus {
  return {
    name: container.name,
    state: { waiting: message ? { reason, message } : { reason } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: container.image ?? "",
    imageID: "",
    started: false,
  };
}

/** The container statuses right after scheduling: everything waits for the pod to initialize. */
export function initialContainerStatuses(spec: PodSpec): Pick<PodStatus, "initContainerStatuses" | "containerStatuses"> {
  const hasInit = (spec.initContainers ?? []).length > 0;
  const containerStatuses = spec.containers.map((container) => waitingStatus(container, hasInit ? "PodInitializing" : "ContainerCreating")).sort(byName);
  if (!hasInit) return { containerStatuses };
  const initContainerStatuses = (spec.initContainers ?? []).map((container, index) => waitingStatus(container, index === 0 ? "ContainerCreating" : "PodInitializing"));
  return { initContainerStatuses, containerStatuses };
}

function byName(a: ContainerStatus, b: ContainerStatus): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function findContainerStatus(status: PodStatus, name: string): ContainerStatus | undefined {
  return status.containerStatuses?.find((entry) => entry.name === name) ?? status.initContainerStatuses?.find((entry) => entry.name === name);
}

export function startContainer(entry: ContainerStatus, nowMs: number, podUid: string): void {
  entry.containerID = `containerd://${createHash("sha256").update(`${podUid}/${entry.name}`).digest("hex")}`;
  entry.imageID = imageId(entry.image);
  entry.state = { running: { startedAt: rfc3339(nowMs) } };
  entry.ready = true;
  entry.started = true;
}

export function terminateContainer(entry: ContainerStatus, exitCode: number, nowMs: number, message?: string): void {
  const startedAt = entry.state.running?.startedAt;
  const terminated: NonNullable<ContainerState["terminated"]> = {
    exitCode,
    reason: exitCode === 0 ? "Completed" : "Error",
    ...(message ? { message } : {}),
    ...(startedAt ? { startedAt } : {}),
    finishedAt: rfc3339(nowMs),
    ...(entry.containerID ? { containerID: entry.containerID } : {}),
  };
  entry.state = { terminated };
  entry.ready = false;
  entry.started = false;
}

export function isTerminated(entry: ContainerStatus | undefined): boolean {
  return entry?.state.terminated !== undefined;
}

function condition(status: PodStatus, type: string, value: boolean, nowMs: number, reason?: string, message?: string): PodCondition {
  const previous = status.conditions?.find((entry) => entry.type === type);
  const text: PodCondition["status"] = value ? "True" : "False";
  const lastTransitionTime = previous && previous.status === text ? previous.lastTransitionTime : rfc3339(nowMs);
  return { type, status: text, ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastProbeTime: null, lastTransitionTime };
}

/** The phase the kubelet derives from the container states, for restartPolicy Never. */
export function derivePhase(status: PodStatus): PodStatus["phase"] {
  if (status.phase === "Succeeded" || status.phase === "Failed") return status.phase;
  const init = status.initContainerStatuses ?? [];
  if (init.some((entry) => entry.state.terminated && entry.state.terminated.exitCode !== 0)) return "Failed";
  if (init.some((entry) => !entry.state.terminated)) return "Pending";
  const containers = status.containerStatuses ?? [];
  if (containers.length === 0 || containers.some((entry) => entry.state.waiting)) return "Pending";
  if (containers.some((entry) => entry.state.running)) return "Running";
  return containers.every((entry) => entry.state.terminated?.exitCode === 0) ? "Succeeded" : "Failed";
}

/** Recomputes phase and the kubelet's conditions after container states changed. */
export function refreshStatus(pod: Pod, nowMs: number): void {
  const status = pod.status;
  status.phase = derivePhase(status);
  const scheduled = status.conditions?.find((entry) => entry.type === "PodScheduled");
  if (scheduled?.status !== "True") return;
  const init = status.initContainerStatuses ?? [];
  const containers = status.containerStatuses ?? [];
  const uninitialized = init.filter((entry) => entry.state.terminated?.exitCode !== 0).map((entry) => entry.name);
  const unready = containers.filter((entry) => !entry.ready).map((entry) => entry.name);
  const terminal = status.phase === "Succeeded" || status.phase === "Failed";
  const readyReason = terminal ? "PodCompleted" : unready.length > 0 ? "ContainersNotReady" : undefined;
  const readyMessage = terminal || unready.length === 0 ? undefined : `containers with unready status: [${unready.join(" ")}]`;
  status.conditions = [
    condition(status, "PodReadyToStartContainers", !terminal, nowMs),
    condition(status, "Initialized", uninitialized.length === 0, nowMs, uninitialized.length > 0 ? "ContainersNotInitialized" : undefined, uninitialized.length > 0 ? `containers with incomplete status: [${uninitialized.join(" ")}]` : undefined),
    condition(status, "Ready", unready.length === 0 && !terminal, nowMs, readyReason, readyMessage),
    condition(status, "ContainersReady", unready.length === 0 && !terminal, nowMs, readyReason, readyMessage),
    scheduled,
  ];
}

export function scheduledCondition(nowMs: number): PodCondition {
  return { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: rfc3339(nowMs) };
}

export function unschedulableCondition(message: string, nowMs: number): PodCondition {
  return { type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastProbeTime: null, lastTransitionTime: rfc3339(nowMs) };
}
