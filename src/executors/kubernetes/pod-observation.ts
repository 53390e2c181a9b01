// Reads a pod's status into what the executor acts on (pure): each container's state, the step
// entrypoint's termination message, and the problems that mean the pod will not run on its own
// (an image that cannot be pulled, no node to schedule on, ECI refusing to create the instance).
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { StepStatus } from "../executor";

export type ContainerPhase =
  | { state: "waiting"; reason: string; message: string }
  | { state: "running"; startedAt: number }
  | { state: "terminated"; exitCode: number; reason: string; message: string; startedAt: number; finishedAt: number };

export interface StepReport {
  status: StepStatus;
  exitCode: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  reason?: string;
}

/** The state of a container, or undefined when the pod status does not list it yet. */
export function containerPhase(pod: V1Pod, name: string, init = false): ContainerPhase | undefined {
  const statuses = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses) ?? [];
  const status = statuses.find((entry) => entry.name === name);
  return status ? phaseOf(status) : undefined;
}

function time(value: Date | string | undefined): number {
  if (value === undefined) return 0;
  return typeof value === "string" ? Date.parse(value) : value.getTime();
}

function phaseOf(status: V1ContainerStatus): ContainerPhase {
  const state = status.state ?? {};
  if (state.terminated) {
    return {
      state: "terminated",
      exitCode: state.terminated.exitCode,
      reason: state.terminated.reason ?? "",
      message: state.terminated.message ?? "",
      startedAt: time(state.terminated.startedAt),
      finishedAt: time(state.terminated.finishedAt),
    };
  }
  if (state.running) return { state: "running", startedAt: time(state.running.startedAt) };
  return { state: "waiting", reason: state.waiting?.reason ?? "", message: state.waiting?.message ?? "" };
}

const STEP_STATUSES = new Set<StepStatus>(["success", "failure", "skipped", "cancelled", "timed-out"]);

/**
 * The step entrypoint's termination message: `status=… exit=… started=… finished=… reason=…`
 * (runner-images/README.md). Undefined when the message is not one (the entrypoint never ran).
 */
export function parseStepMessage(message: string): StepReport | undefined {
  const line = message.trim().split("\n").pop() ?? "";
  const reasonAt = line.indexOf(" reason=");
  const head = reasonAt >= 0 ? line.slice(0, reasonAt) : line;
  const fields = new Map(head.split(/\s+/).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
  const status = fields.get("status") as StepStatus | undefined;
  if (!status || !STEP_STATUSES.has(status)) return undefined;
  const number = (key: string): number | null => {
    const value = fields.get(key);
    return value === undefined || value === "-" || value === "" || !/^-?\d+$/.test(value) ? null : Number(value);
  };
  const reason = reasonAt >= 0 ? line.slice(reasonAt + " reason=".length).trim() : "";
  return { status, exitCode: number("exit"), startedAt: number("started"), finishedAt: number("finished"), ...(reason ? { reason } : {}) };
}

/**
 * What a step container that ended says about its step: the entrypoint's message when it wrote one,
 * else the container's own end (killed before the entrypoint could write: OOMKilled, deleted).
 */
export function stepReportOf(phase: Extract<ContainerPhase, { state: "terminated" }>): StepReport {
  const reported = parseStepMessage(phase.message);
  if (reported) {
    // The kernel's OOM killer leaves the entrypoint's message behind it as a plain failure.
    if (phase.reason === "OOMKilled" && reported.status === "failure") return { ...reported, reason: "killed: out of memory (OOMKilled)" };
    return reported;
  }
  const reason = phase.reason === "OOMKilled" ? "killed: out of memory (OOMKilled)" : `container ended: ${phase.reason || `exit ${phase.exitCode}`}`;
  return { status: phase.exitCode === 0 ? "success" : "failure", exitCode: phase.exitCode, startedAt: phase.startedAt || null, finishedAt: phase.finishedAt || null, reason };
}

export interface PodProblem {
  /** Stable code, e.g. `image_pull_failed`, `unschedulable`. */
  code: string;
  message: string;
  /** True when waiting cannot help (an invalid image name, ECI refused); else give it the configured time. */
  fatal: boolean;
  retryable: boolean;
}

const IMAGE_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "RegistryUnavailable"]);

/** What keeps the pod from running, if anything; the first one found. */
export function podProblem(pod: V1Pod): PodProblem | undefined {
  const status = pod.status ?? {};
  const reason = status.reason ?? "";
  // A pod that failed because a step failed has no reason; one with a reason was stopped from outside.
  if (status.phase === "Failed" && reason !== "" && reason !== "DeadlineExceeded" && !/^Provider(Create)?Failed$/.test(reason)) {
    return { code: reason === "Evicted" ? "pod_evicted" : "pod_failed", message: `the pod failed: ${reason}${status.message ? `: ${status.message}` : ""}`, fatal: true, retryable: true };
  }
  if (/^Provider(Create)?Failed$/.test(reason)) return { code: "eci_create_failed", message: `ECI could not create the instance: ${status.message ?? reason}`, fatal: true, retryable: true };
  const all = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  for (const container of all) {
    const waiting = container.state?.waiting;
    if (!waiting?.reason) continue;
    if (IMAGE_REASONS.has(waiting.reason)) {
      const fatal = waiting.reason === "InvalidImageName" || waiting.reason === "ErrImageNeverPull";
      return {
        code: "image_pull_failed",
        message: `image ${container.image} of container ${container.name} cannot be pulled: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}`,
        fatal,
        retryable: false,
      };
    }
    if (waiting.reason === "CreateContainerConfigError" || waiting.reason === "CreateContainerError") {
      return { code: "container_config_failed", message: `container ${container.name} cannot be created: ${waiting.message ?? waiting.reason}`, fatal: false, retryable: false };
    }
  }
  const scheduled = status.conditions?.find((condition) => condition.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    return { code: "unschedulable", message: `no node can run the pod: ${scheduled.message ?? "Unschedulable"}`, fatal: false, retryable: true };
  }
  return undefined;
}

/** The pod was stopped by its activeDeadlineSeconds (the job's timeout, as a backstop). */
export function deadlineExceeded(pod: V1Pod): boolean {
  return pod.status?.phase === "Failed" && pod.status.reason === "DeadlineExceeded";
}
