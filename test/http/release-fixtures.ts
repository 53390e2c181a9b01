// Releases in a real database for the API and CLI tests: a pipeline whose file has a `release:`
// section, its build job finished so the release job is queued, the release claimed as the release
// worker claims it, and ticks saved with whatever state a test wants to look at.
import { summarize } from "../../src/release/release-driver";
import { initialState, type ReleaseState, type Transition } from "../../src/release/release-state";
import { ReleasesStore, type Database } from "../../src/store";
import { createRepository, planOf, runJobs, stores } from "../store/fixtures";

export const WORKER = "release-worker-1";
const T0 = Date.parse("2025-05-01T10:00:00.000Z");

/** Five steps: weight 20, pause 5m, analysis (3 × 1m), pause until resumed, weight 100. */
export function releasePipeline(port: number, options: { jobKey?: string } = {}): string[] {
  const job = options.jobKey ?? "build";
  return [
    "jobs:",
    `  ${job}: {artifacts: [dist/], steps: [{run: make}]}`,
    "release:",
    `  artifact: {from: ${job}, path: dist}`,
    `  target: {type: local, command: "node server.mjs", port: ${port}}`,
    "  strategy:",
    "    steps: [{weight: 20}, {pause: 5m}, {analysis: {}}, {pause: {}}, {weight: 100}]",
    "  analysis:",
    "    interval: 1m",
    "    metrics: [{name: error-rate, max: 1%}]",
  ];
}

export interface StartedRelease {
  releaseId: number;
  jobId: number;
  pipelineId: number;
  repositoryId: number;
  target: string;
}

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);

/** A pipeline with a release whose job ran: the release exists, publishing, with the initial state. */
/** `jobKey`: the name of the pipeline's one job (a job called release moves the release job to "@release"). */
export async function startRelease(database: Database, options: { repositoryId?: number; jobKey?: string } = {}): Promise<StartedRelease> {
  const repositoryId = options.repositoryId ?? (await createRepository(database)).id;
  const { pipelines, queue } = stores(database);
  const port = nextPort++;
  const { id: pipelineId } = await pipelines.createPipeline({ repositoryId, plan: planOf(releasePipeline(port, options)) });
  await runJobs(queue, "runner-1", { [options.jobKey ?? "build"]: "success" });
  const claimed = await new ReleasesStore(database).claim({ owner: WORKER, leaseMs: 600_000, limit: 10, soleReplica: false, initialState: () => initialState(T0) });
  const release = claimed.find((candidate) => candidate.pipelineId === pipelineId);
  if (!release) throw new Error(`the release of pipeline ${pipelineId} was not claimed`);
  return { releaseId: release.releaseId, jobId: release.jobId, pipelineId, repositoryId, target: release.target };
}

/** Saves a tick as the release worker does: the state, its transitions, the commands consumed. */
export async function saveState(database: Database, release: StartedRelease, state: ReleaseState, options: { transitions?: Transition[]; consumed?: number[] } = {}): Promise<void> {
  const saved = await new ReleasesStore(database).saveTick(release.releaseId, release.jobId, WORKER, {
    phase: state.phase,
    version: state.version ?? null,
    weight: state.live?.canary?.weight ?? (state.phase === "promoted" ? 100 : 0),
    state,
    transitions: options.transitions ?? [],
    consumedCommands: options.consumed ?? [],
    summary: summarize(state),
    report: false,
  });
  if (!saved) throw new Error(`the tick of release ${release.releaseId} was not saved`);
}

/** Paused on the pause-until-resumed step (index 3), 20% on version 4 over stable 3, after a passing measurement. */
export function pausedState(): ReleaseState {
  return {
    ...initialState(T0),
    phase: "paused",
    stepIndex: 3,
    version: "4",
    previous: { stable: "3" },
    live: { stable: "3", canary: { version: "4", weight: 20 } },
    weight: 20,
    pause: { reason: "step 4 waits for a person to resume or promote", by: "step" },
    analysis: {
      failures: 0,
      inconclusive: 1,
      passedInStep: 0,
      last: { at: T0 + 9 * 60_000, outcome: "pass", metrics: [{ name: "error-rate", value: 0.002, verdict: "pass", reason: "0.2% ≤ 1%" }] },
    },
  };
}

export function progressingState(weight = 20): ReleaseState {
  return { ...pausedState(), phase: "progressing", stepIndex: 1, pause: undefined, live: { stable: "3", canary: { version: "4", weight } }, weight };
}

export function promotedState(): ReleaseState {
  return { ...pausedState(), phase: "promoted", stepIndex: 5, pause: undefined, live: { stable: "4" }, weight: 100, result: "version 4 serves all traffic" };
}

export function rolledBackState(): ReleaseState {
  return { ...pausedState(), phase: "rolled-back", stepIndex: 2, pause: undefined, live: { stable: "3" }, weight: 0, result: "analysis failed 1 times (error-rate 7% > 1%)" };
}

/** The history of a release that published, moved to 20% and paused on step 4. */
export function pausedHistory(): Transition[] {
  return [
    { at: T0 + 60_000, from: "publishing", to: "progressing", weight: 0, reason: "version 4 published; step 1/5: weight 20%" },
    { at: T0 + 10 * 60_000, from: "progressing", to: "paused", weight: 20, reason: "step 4 waits for a person to resume or promote" },
  ];
}

export const RELEASE_T0 = T0;
