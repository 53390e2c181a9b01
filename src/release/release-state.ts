// The persisted state of one release and what moves it: observations in (results of provider
// calls, measurements, people's commands), actions out. release-tick.ts decides; the driver does I/O.
import type { TrafficSplit } from "./deploy-provider";

/**
 * publishing → progressing ⇄ paused → promoted, or → rolling-back → rolled-back | aborted | failed.
 * rolling-back lasts until the target serves the split that was live before the release.
 */
export type ReleasePhase = "publishing" | "progressing" | "paused" | "rolling-back" | "promoted" | "rolled-back" | "aborted" | "failed";

export const FINAL_PHASES: readonly ReleasePhase[] = ["promoted", "rolled-back", "aborted", "failed"];

export function isFinalPhase(phase: ReleasePhase): boolean {
  return FINAL_PHASES.includes(phase);
}

export type ReleaseCommandName = "promote" | "promote-full" | "pause" | "resume" | "abort" | "rollback";

/** One analysis measurement: each metric's value (undefined: no data) and its verdict. */
export interface Measurement {
  at: number;
  outcome: "pass" | "fail" | "inconclusive";
  metrics: Array<{ name: string; value?: number; verdict: "pass" | "fail" | "inconclusive"; reason: string }>;
}

export interface ReleaseState {
  phase: ReleasePhase;
  /** Index into the strategy's steps; steps.length once every step is done. */
  stepIndex: number;
  stepStartedAt: number;
  /** The canary version, once published. */
  version?: string;
  /** The split live before this release changed anything: what a rollback restores. */
  previous?: TrafficSplit;
  /** The split the target confirmed last (effective weights). */
  live?: TrafficSplit;
  /** The canary weight the current step wants (percent). */
  weight: number;
  /** Why the release is paused; `person` pauses end only by a command. */
  pause?: { reason: string; by: "person" | "step" | "analysis" };
  analysis: {
    /** Start of the window the next measurement covers. */
    windowStart?: number;
    failures: number;
    inconclusive: number;
    /** Passing measurements in the current analysis step. */
    passedInStep: number;
    last?: Measurement;
  };
  /** A provider call that failed and is retried with backoff. */
  retry?: { attempts: number; nextAt: number; error: string };
  /** When the release last moved (a step done, a call that succeeded): the progress deadline counts from it. */
  progressAt: number;
  /** Set when the release is ending: the final phase it ends in once traffic is restored. */
  ending?: { phase: "rolled-back" | "aborted" | "failed"; reason: string };
  /** Old versions were pruned (after promotion). */
  pruned?: boolean;
  /** Why the release ended, in a sentence. */
  result?: string;
}

export type Observation =
  | { kind: "published"; version: string; created: boolean }
  | { kind: "traffic-read"; split: TrafficSplit }
  | { kind: "traffic-set"; split: TrafficSplit }
  | { kind: "measured"; at: number; metrics: Array<{ name: string; value?: number; requests?: number }> }
  | { kind: "pruned"; deleted: string[]; error?: string }
  | { kind: "provider-error"; action: Action["kind"]; message: string; retryable: boolean; retryAfterMs?: number }
  | { kind: "command"; command: ReleaseCommandName; by: string }
  | { kind: "cancelled"; reason: string };

export type Action =
  | { kind: "publish" }
  | { kind: "read-traffic" }
  | { kind: "set-traffic"; split: TrafficSplit }
  | { kind: "promote"; version: string }
  | { kind: "rollback"; to: TrafficSplit }
  | { kind: "measure"; version: string; from: number; to: number }
  | { kind: "prune"; keep: number; protect: string[] };

/** A change worth recording in the release's history (and notifying). */
export interface Transition {
  at: number;
  from: ReleasePhase;
  to: ReleasePhase;
  /** The canary weight after the change. */
  weight: number;
  reason: string;
}

export interface TickResult {
  state: ReleaseState;
  /** The next provider call to make, if any (one at a time; its result is the next observation). */
  action?: Action;
  transitions: Transition[];
  /** When to tick again without a new observation (a pause ending, the next measurement, a retry). */
  wakeAt?: number;
  /** Lines for the release's log: what happened and why, also when the phase did not change. */
  log: string[];
}

export function initialState(now: number): ReleaseState {
  return { phase: "publishing", stepIndex: 0, stepStartedAt: now, weight: 0, analysis: { failures: 0, inconclusive: 0, passedInStep: 0 }, progressAt: now };
}
