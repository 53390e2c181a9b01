import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { containerPhase, parseStepMessage, podProblem, stepReportOf } from "../../../src/executors/kubernetes/pod-observation";
import { janitorVictims } from "../../../src/executors/kubernetes/janitor-plan";

function pod(status: V1Pod["status"], metadata: V1Pod["metadata"] = { name: "gust-x" }): V1Pod {
  return { metadata, status };
}

describe("step termination messages", () => {
  it("reads the entrypoint's line, reason with spaces included", () => {
    expect(parseStepMessage("status=timed-out exit=124 started=1000 finished=6000 reason=timed out after 5s")).toEqual({
      status: "timed-out",
      exitCode: 124,
      startedAt: 1000,
      finishedAt: 6000,
      reason: "timed out after 5s",
    });
    expect(parseStepMessage("status=skipped exit=- started=- finished=7000 reason=skipped: an earlier step failed")).toMatchObject({ status: "skipped", exitCode: null, startedAt: null });
  });

  it("refuses what is not one", () => {
    expect(parseStepMessage("")).toBeUndefined();
    expect(parseStepMessage("status=exploded exit=1")).toBeUndefined();
  });

  it("falls back to the container's end when the entrypoint wrote nothing (OOM, killed)", () => {
    const report = stepReportOf({ state: "terminated", exitCode: 137, reason: "OOMKilled", message: "", startedAt: 1, finishedAt: 2 });
    expect(report).toMatchObject({ status: "failure", exitCode: 137, reason: "killed: out of memory (OOMKilled)" });
  });
});

describe("pod problems", () => {
  it("an image that cannot be pulled is an image problem that waiting may still fix; an invalid name is fatal", () => {
    const pulling = pod({ phase: "Pending", containerStatuses: [{ name: "step-0", image: "nope:1", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff", message: "Back-off pulling image" } } }] });
    expect(podProblem(pulling)).toMatchObject({ code: "image_pull_failed", fatal: false });
    const invalid = pod({ phase: "Pending", containerStatuses: [{ name: "step-0", image: "UPPER", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "InvalidImageName" } } }] });
    expect(podProblem(invalid)).toMatchObject({ code: "image_pull_failed", fatal: true });
  });

  it("unschedulable, ECI refusals and evictions", () => {
    expect(podProblem(pod({ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient cpu." }] }))).toMatchObject({ code: "unschedulable", fatal: false });
    expect(podProblem(pod({ phase: "Pending", reason: "ProviderFailed", message: "no stock" }))).toMatchObject({ code: "eci_create_failed", fatal: true });
    expect(podProblem(pod({ phase: "Failed", reason: "Evicted", message: "disk pressure" }))).toMatchObject({ code: "pod_evicted", fatal: true });
  });

  it("a pod that failed because a step failed is no problem, nor is one that runs", () => {
    expect(podProblem(pod({ phase: "Failed" }))).toBeUndefined();
    expect(podProblem(pod({ phase: "Running", containerStatuses: [{ name: "step-0", image: "a", imageID: "", ready: true, restartCount: 0, state: { running: { startedAt: new Date(5) } } }] }))).toBeUndefined();
  });

  it("reads container phases by name", () => {
    const running = pod({ initContainerStatuses: [{ name: "gust-prepare", image: "h", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, startedAt: new Date(1), finishedAt: new Date(2) } } }] });
    expect(containerPhase(running, "gust-prepare", true)).toMatchObject({ state: "terminated", exitCode: 0, finishedAt: 2 });
    expect(containerPhase(running, "step-0")).toBeUndefined();
  });
});

describe("janitor", () => {
  const at = (name: string, runId: string, annotations: Record<string, string> = {}, deleting = false): V1Pod => ({
    metadata: { name, annotations: { "gust.dev/run-id": runId, ...annotations }, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  });

  it("deletes pods whose run runs nowhere, and kept pods whose time is up; never a run still going", () => {
    const now = Date.parse("2026-12-04T12:00:00Z");
    const victims = janitorVictims(
      [
        at("mine", "run-1"),
        at("elsewhere", "run-2"),
        at("orphan", "run-3"),
        at("kept", "run-4", { "gust.dev/delete-after": "2026-12-04T13:00:00Z" }),
        at("expired", "run-5", { "gust.dev/delete-after": "2026-12-04T11:00:00Z" }),
        at("going", "run-6", {}, true),
      ],
      { now, localRuns: new Set(["run-1"]), activeRuns: new Set(["run-2"]) },
    );
    expect(victims).toEqual(["orphan", "expired"]);
  });
});
