// Release records → answer bodies, field by field, and the strategy's steps described with where
// the release stands on them. The stored controller state is read here, never sent as it is.
import type { z } from "zod";
import { formatDuration, type CanaryStep, type PlannedRelease, type ReleaseDef } from "../../pipeline";
import type { TrafficSplit } from "../../release/deploy-provider";
import { summarize } from "../../release/release-driver";
import type { ReleaseState } from "../../release/release-state";
import { DEFAULT_ANALYSIS_INTERVALS } from "../../release/release-tick";
import type { ReleaseDetailRecord, ReleaseRecord } from "./ports";
import type { RELEASE_COMMANDS, releaseDetail, releaseSchema, trafficSplitSchema } from "./release-schemas";

type Phase = z.output<typeof releaseSchema>["phase"];
type StepJson = z.output<typeof releaseDetail>["steps"][number];

const iso = (date: Date): string => date.toISOString();
const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** `summary` given: the list has no state, only the job's detail. */
export function releaseJson(release: ReleaseRecord, summary = release.jobDetail ?? release.phase): z.output<typeof releaseSchema> {
  return {
    id: release.id,
    repository: { id: release.repositoryId, fullName: release.repository },
    pipeline: { id: release.pipelineId, number: release.pipelineNumber },
    jobId: release.jobId,
    target: release.target,
    targetType: release.targetType,
    phase: release.phase as Phase,
    version: release.version,
    weight: release.weight,
    summary,
    createdAt: iso(release.createdAt),
    updatedAt: iso(release.updatedAt),
    finishedAt: isoOrNull(release.finishedAt),
  };
}

/** The stored state is newer than the job's detail for a moment after each tick: summarized from it. */
export function releaseHeadJson(release: ReleaseDetailRecord): z.output<typeof releaseSchema> {
  return releaseJson(release, summarize(release.state as ReleaseState));
}

export function releaseDetailJson(release: ReleaseDetailRecord): z.output<typeof releaseDetail> {
  const state = release.state as ReleaseState;
  const def = (release.spec as PlannedRelease).def;
  const last = state.analysis.last;
  return {
    ...releaseHeadJson(release),
    stepIndex: state.stepIndex,
    steps: describeSteps(def, state),
    live: state.live ? splitJson(state.live) : null,
    previous: state.previous ? splitJson(state.previous) : null,
    pause: state.pause ? { reason: state.pause.reason, by: state.pause.by } : null,
    analysis: {
      last: last
        ? { at: new Date(last.at).toISOString(), outcome: last.outcome, metrics: last.metrics.map((metric) => ({ name: metric.name, value: metric.value ?? null, verdict: metric.verdict, reason: metric.reason })) }
        : null,
      failures: state.analysis.failures,
      inconclusive: state.analysis.inconclusive,
    },
    retry: state.retry ? { attempts: state.retry.attempts, error: state.retry.error, nextAt: new Date(state.retry.nextAt).toISOString() } : null,
    result: state.result ?? null,
    events: release.events.map((event) => ({ at: iso(event.at), from: event.fromPhase as Phase, to: event.toPhase as Phase, weight: event.weight, reason: event.reason })),
    pendingCommands: release.pendingCommands.map((command) => ({ id: command.id, command: command.command as (typeof RELEASE_COMMANDS)[number], requestedBy: command.requestedBy })),
  };
}

/** Steps before stepIndex are done; the one at it is current while the release moves or waits on it. */
export function describeSteps(def: ReleaseDef, state: Pick<ReleaseState, "phase" | "stepIndex">): StepJson[] {
  const onSteps = state.phase === "progressing" || state.phase === "paused";
  return def.steps.map((step, index) => ({
    index,
    kind: step.kind,
    description: describeStep(step, def),
    weight: step.kind === "weight" ? step.weight : null,
    durationMs: step.kind === "weight" ? null : (step.durationMs ?? (step.kind === "analysis" ? analysisDuration(def) : null)),
    status: index < state.stepIndex ? "done" : index === state.stepIndex && onSteps ? "current" : "pending",
  }));
}

export function describeStep(step: CanaryStep, def: ReleaseDef): string {
  switch (step.kind) {
    case "weight":
      return `weight ${step.weight}%`;
    case "pause":
      return step.durationMs === undefined ? "pause until resumed" : `pause ${formatDuration(step.durationMs)}`;
    case "analysis": {
      const duration = step.durationMs ?? analysisDuration(def);
      return duration === null ? "analysis (no metrics defined)" : `analysis ${formatDuration(duration)}`;
    }
  }
}

/** An analysis step without its own duration measures a few intervals; without analysis it passes. */
function analysisDuration(def: ReleaseDef): number | null {
  return def.analysis ? DEFAULT_ANALYSIS_INTERVALS * def.analysis.intervalMs : null;
}

function splitJson(split: TrafficSplit): z.output<typeof trafficSplitSchema> {
  const route = split.route && (split.route.header || split.route.cookie) ? split.route : undefined;
  return {
    stable: split.stable,
    canary: split.canary ? { version: split.canary.version, weight: split.canary.weight } : null,
    route: route ? { ...(route.header ? { header: { ...route.header } } : {}), ...(route.cookie ? { cookie: { ...route.cookie } } : {}) } : null,
  };
}
