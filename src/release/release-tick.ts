// The release controller's decision: a pure function of (definition, state, observations, now)
// returning the next state, at most one provider call to make, when to look again, and the
// transitions to record. The driver persists the state before it makes the call, and every call is
// absolute and idempotent, so a restart at any point ticks the stored state again and carries on.
import type { ReleaseDef } from "../pipeline/model";
import { judgeMeasurement } from "./analysis-judge";
import { normalizeSplit, sameSplit, type TrafficSplit } from "./deploy-provider";
import { isFinalPhase, type Action, type Observation, type ReleaseCommandName, type ReleasePhase, type ReleaseState, type TickResult, type Transition } from "./release-state";

const MAX_BACKOFF_MS = 60_000;
/** An analysis step without its own duration measures this many intervals. */
export const DEFAULT_ANALYSIS_INTERVALS = 3;

export function tick(def: ReleaseDef, current: ReleaseState, observations: readonly Observation[], now: number): TickResult {
  const run = new Tick(def, structuredClone(current), now);
  for (const observation of observations) run.observe(observation);
  return run.decide();
}

/** Why a command cannot apply to a release in this state (undefined: it can). */
export function commandProblem(state: ReleaseState, command: ReleaseCommandName): string | undefined {
  if (isFinalPhase(state.phase)) return `the release is already ${state.phase}`;
  if (state.phase === "rolling-back") return "the release is rolling back";
  switch (command) {
    case "pause":
      return state.phase === "progressing" ? undefined : `only a progressing release can be paused (it is ${state.phase})`;
    case "resume":
      return state.phase === "paused" ? undefined : `only a paused release can be resumed (it is ${state.phase})`;
    case "promote":
    case "promote-full":
      return state.phase === "publishing" ? "the version is still being published" : undefined;
    default:
      return undefined;
  }
}

class Tick {
  private readonly transitions: Transition[] = [];
  private readonly log: string[] = [];

  constructor(
    private readonly def: ReleaseDef,
    private readonly s: ReleaseState,
    private readonly now: number,
  ) {}

  observe(observation: Observation): void {
    const s = this.s;
    switch (observation.kind) {
      case "published":
        s.version = observation.version;
        this.moved();
        this.log.push(observation.created ? `published version ${observation.version}` : `version ${observation.version} holds this artifact already`);
        return;
      case "traffic-read":
        s.previous = normalizeSplit(observation.split);
        s.live = s.previous;
        this.moved();
        this.log.push(`live before the release: ${describeSplit(s.previous)}`);
        return;
      case "traffic-set":
        s.live = normalizeSplit(observation.split);
        this.moved();
        this.log.push(`traffic: ${describeSplit(s.live)}`);
        return;
      case "measured":
        this.onMeasured(observation);
        return;
      case "pruned":
        s.pruned = true;
        this.log.push(observation.error ? `could not delete old versions: ${observation.error}` : observation.deleted.length > 0 ? `deleted old versions ${observation.deleted.join(", ")}` : "no old versions to delete");
        return;
      case "provider-error":
        this.onProviderError(observation);
        return;
      case "command":
        this.onCommand(observation.command, observation.by);
        return;
      case "cancelled":
        if (!isFinalPhase(s.phase) && s.phase !== "rolling-back") this.end("aborted", observation.reason);
        return;
    }
  }

  decide(): TickResult {
    let action: Action | undefined;
    let wakeAt: number | undefined;
    // Each pass either settles on an action or a wait, or moves the state on; steps are finite.
    for (let pass = 0; pass < this.def.steps.length + 8; pass += 1) {
      const next = this.next();
      if (next === "again") continue;
      action = next.action;
      wakeAt = next.wakeAt;
      break;
    }
    return { state: this.s, ...(action ? { action } : {}), ...(wakeAt !== undefined ? { wakeAt } : {}), transitions: this.transitions, log: this.log };
  }

  private next(): "again" | { action?: Action; wakeAt?: number } {
    const s = this.s;
    if (isFinalPhase(s.phase)) {
      return s.phase === "promoted" && !s.pruned && s.version ? { action: { kind: "prune", keep: this.def.keepVersions, protect: [s.version] } } : {};
    }
    if (s.retry && this.now < s.retry.nextAt) {
      if (s.phase !== "rolling-back" && this.now - s.progressAt >= this.def.progressDeadlineMs) {
        this.end("aborted", `no progress for ${minutes(this.def.progressDeadlineMs)}: ${s.retry.error}`);
        return "again";
      }
      return { wakeAt: s.retry.nextAt };
    }
    switch (s.phase) {
      case "rolling-back":
        return this.rollingBack();
      case "publishing":
        return this.publishing();
      case "paused":
        return {};
      case "progressing":
        return this.progressing();
      default:
        return {};
    }
  }

  private rollingBack(): "again" | { action: Action } {
    const s = this.s;
    const ending = s.ending!;
    if (s.previous === undefined || (s.live !== undefined && sameSplit(s.live, s.previous))) {
      this.setPhase(ending.phase, ending.reason);
      s.weight = 0;
      s.result = ending.reason;
      return "again";
    }
    return { action: { kind: "rollback", to: s.previous } };
  }

  private publishing(): "again" | { action: Action } {
    const s = this.s;
    if (s.version === undefined) return { action: { kind: "publish" } };
    if (s.previous === undefined) return { action: { kind: "read-traffic" } };
    if (s.previous.stable === s.version && !s.previous.canary) {
      s.weight = 100;
      this.finishPromoted(`version ${s.version} already serves all traffic`);
      return "again";
    }
    s.stepIndex = s.previous.stable === null ? this.def.steps.length : 0;
    s.stepStartedAt = this.now;
    this.setPhase("progressing", s.previous.stable === null ? `nothing is served yet: version ${s.version} takes all traffic` : `version ${s.version} published; ${this.stepLabel()}`);
    return "again";
  }

  private progressing(): "again" | { action?: Action; wakeAt?: number } {
    const s = this.s;
    const version = s.version!;
    if (s.stepIndex >= this.def.steps.length) {
      if (s.live && s.live.stable === version && !s.live.canary) {
        s.weight = 100;
        this.finishPromoted(`version ${version} serves all traffic`);
        return "again";
      }
      return { action: { kind: "promote", version } };
    }
    const step = this.def.steps[s.stepIndex]!;
    if (step.kind === "weight") {
      s.weight = step.weight;
      const wanted = this.canarySplit(step.weight);
      if (!this.serves(wanted)) return { action: { kind: "set-traffic", split: wanted } };
      return this.advance(`weight ${s.live?.canary?.weight ?? step.weight}% reached`);
    }
    const measure = this.measurement();
    if (measure?.action) return measure;
    if (step.kind === "pause") {
      if (step.durationMs === undefined) {
        s.pause = { reason: `step ${s.stepIndex + 1} waits for a person to resume or promote`, by: "step" };
        this.setPhase("paused", s.pause.reason);
        return {};
      }
      const endsAt = s.stepStartedAt + step.durationMs;
      if (this.now >= endsAt) return this.advance(`paused ${minutes(step.durationMs)}`);
      return { wakeAt: Math.min(endsAt, measure?.wakeAt ?? endsAt) };
    }
    // An analysis step: at least one passing measurement, and its duration spent.
    const duration = step.durationMs ?? DEFAULT_ANALYSIS_INTERVALS * (this.def.analysis?.intervalMs ?? 0);
    const endsAt = s.stepStartedAt + duration;
    if (!this.def.analysis || (this.now >= endsAt && s.analysis.passedInStep > 0)) return this.advance(`analysis passed (${s.analysis.passedInStep} measurements)`);
    if (!measure) {
      // Nothing reaches the canary, so nothing can be judged: a person decides rather than a silent pass.
      s.pause = { reason: `step ${s.stepIndex + 1} analyses a canary that takes no traffic: promote, or roll back`, by: "analysis" };
      this.setPhase("paused", s.pause.reason);
      return {};
    }
    return { wakeAt: measure.wakeAt! };
  }

  /** While the canary takes traffic and analysis is defined: a measurement every interval. */
  private measurement(): { action?: Action; wakeAt?: number } | undefined {
    const s = this.s;
    const analysis = this.def.analysis;
    const canary = s.live?.canary;
    if (!analysis || !canary || canary.version !== s.version || (canary.weight <= 0 && !s.live?.route)) return undefined;
    s.analysis.windowStart ??= this.now;
    const due = s.analysis.windowStart + analysis.intervalMs;
    if (this.now < due) return { wakeAt: due };
    return { action: { kind: "measure", version: s.version, from: s.analysis.windowStart, to: this.now } };
  }

  private onMeasured(observation: Extract<Observation, { kind: "measured" }>): void {
    const s = this.s;
    const analysis = this.def.analysis;
    if (!analysis) return;
    const measurement = judgeMeasurement(analysis, observation.metrics, observation.at);
    s.analysis.last = measurement;
    s.analysis.windowStart = observation.at;
    const detail = measurement.metrics.map((metric) => `${metric.name} ${metric.reason}`).join(", ");
    this.log.push(`analysis: ${measurement.outcome} (${detail})`);
    if (s.phase !== "progressing") return;
    if (measurement.outcome === "pass") {
      s.analysis.passedInStep += 1;
      this.moved();
      return;
    }
    if (measurement.outcome === "inconclusive") {
      s.analysis.inconclusive += 1;
      if (s.analysis.inconclusive > analysis.inconclusiveLimit) {
        s.pause = { reason: `analysis inconclusive ${times(s.analysis.inconclusive)} (${detail}): resume to keep measuring, or promote or roll back`, by: "analysis" };
        this.setPhase("paused", s.pause.reason);
      }
      return;
    }
    s.analysis.failures += 1;
    if (s.analysis.failures <= analysis.failureLimit) return;
    const reason = `analysis failed ${times(s.analysis.failures)} (${detail})`;
    if (this.def.rollback === "auto") {
      this.end("rolled-back", reason);
      return;
    }
    s.pause = { reason: `${reason}; rollback is manual: roll back, or promote to accept the version`, by: "analysis" };
    this.setPhase("paused", s.pause.reason);
  }

  private onProviderError(observation: Extract<Observation, { kind: "provider-error" }>): void {
    const s = this.s;
    const what = `${observation.action} failed: ${observation.message}`;
    if (observation.action === "prune") {
      s.pruned = true;
      this.log.push(`could not delete old versions: ${observation.message}`);
      return;
    }
    if (observation.retryable && s.phase !== "rolling-back" && this.now - s.progressAt >= this.def.progressDeadlineMs) {
      this.end("aborted", `no progress for ${minutes(this.def.progressDeadlineMs)}: ${what}`);
      return;
    }
    if (observation.retryable || s.phase === "rolling-back") {
      // A rollback is retried whatever the error: giving up would leave traffic split.
      const attempts = (s.retry?.attempts ?? 0) + 1;
      const delay = Math.max(observation.retryAfterMs ?? 0, Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (attempts - 1)));
      s.retry = { attempts, nextAt: this.now + delay, error: what };
      this.log.push(`${what}; retrying in ${Math.round(delay / 1000)}s (attempt ${attempts + 1})`);
      return;
    }
    this.end("failed", what);
  }

  private onCommand(command: ReleaseCommandName, by: string): void {
    const s = this.s;
    const problem = commandProblem(s, command);
    if (problem) {
      this.log.push(`${command} by ${by} ignored: ${problem}`);
      return;
    }
    switch (command) {
      case "pause":
        s.pause = { reason: `paused by ${by}`, by: "person" };
        this.setPhase("paused", s.pause.reason);
        return;
      case "resume": {
        const pausedStep = s.pause?.by === "step";
        if (s.pause?.by === "analysis") s.analysis = { ...s.analysis, failures: 0, inconclusive: 0 };
        // Measurements start afresh: the paused time is not judged.
        delete s.analysis.windowStart;
        s.pause = undefined;
        this.setPhase("progressing", `resumed by ${by}`);
        if (pausedStep) this.advance(`resumed by ${by}`);
        return;
      }
      case "promote":
      case "promote-full": {
        s.pause = undefined;
        s.analysis = { ...s.analysis, failures: 0, inconclusive: 0 };
        if (s.phase === "paused") this.setPhase("progressing", `promoted by ${by}`);
        if (command === "promote-full") {
          s.stepIndex = this.def.steps.length;
          this.moved();
          this.log.push(`${by} promoted the version fully`);
        } else this.advance(`${by} promoted past the step`);
        return;
      }
      case "abort":
        this.end("aborted", `aborted by ${by}`);
        return;
      case "rollback":
        this.end("rolled-back", `rolled back by ${by}`);
        return;
    }
  }

  /** Ends the release: traffic goes back to the split live before it, then the phase is final. */
  private end(phase: "rolled-back" | "aborted" | "failed", reason: string): void {
    const s = this.s;
    s.ending = { phase, reason };
    s.pause = undefined;
    s.retry = undefined;
    this.setPhase("rolling-back", reason);
  }

  private finishPromoted(reason: string): void {
    this.s.result = reason;
    this.s.retry = undefined;
    this.setPhase("promoted", reason);
  }

  private advance(reason: string): "again" {
    const s = this.s;
    this.log.push(`step ${s.stepIndex + 1} done: ${reason}`);
    s.stepIndex += 1;
    s.stepStartedAt = this.now;
    s.analysis.passedInStep = 0;
    this.moved();
    if (s.stepIndex < this.def.steps.length) this.log.push(this.stepLabel());
    return "again";
  }

  private moved(): void {
    this.s.progressAt = this.now;
    this.s.retry = undefined;
  }

  private canarySplit(weight: number): TrafficSplit {
    const s = this.s;
    return normalizeSplit({ stable: s.previous!.stable, canary: { version: s.version!, weight }, ...(this.def.ab ? { route: this.def.ab } : {}) });
  }

  /** Whether the live split is `wanted`, allowing the target to have rounded the weight up. */
  private serves(wanted: TrafficSplit): boolean {
    const live = this.s.live;
    if (!live) return false;
    if (live.stable !== wanted.stable || live.canary?.version !== wanted.canary?.version) return false;
    if ((live.canary?.weight ?? 0) < (wanted.canary?.weight ?? 0)) return false;
    return JSON.stringify(live.route ?? null) === JSON.stringify(wanted.route ?? null);
  }

  private stepLabel(): string {
    const step = this.def.steps[this.s.stepIndex];
    if (!step) return "promoting";
    const position = `step ${this.s.stepIndex + 1}/${this.def.steps.length}`;
    if (step.kind === "weight") return `${position}: weight ${step.weight}%`;
    if (step.kind === "pause") return `${position}: ${step.durationMs === undefined ? "pause until resumed" : `pause ${minutes(step.durationMs)}`}`;
    return `${position}: analysis`;
  }

  private setPhase(phase: ReleasePhase, reason: string): void {
    const from = this.s.phase;
    if (from === phase) return;
    this.s.phase = phase;
    this.transitions.push({ at: this.now, from, to: phase, weight: this.s.live?.canary?.weight ?? (phase === "promoted" ? 100 : 0), reason });
    this.log.push(`${from} → ${phase}: ${reason}`);
  }
}

export function describeSplit(split: TrafficSplit): string {
  if (split.stable === null && !split.canary) return "nothing served";
  const stable = split.stable === null ? "" : `version ${split.stable}`;
  if (!split.canary) return `${stable} takes all traffic`;
  const route = split.route?.header ? `, header ${split.route.header.name}: ${split.route.header.value}` : split.route?.cookie ? `, cookie ${split.route.cookie.name}=${split.route.cookie.value}` : "";
  return `${stable} ${100 - split.canary.weight}%, version ${split.canary.version} ${split.canary.weight}%${route}`;
}

function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  return `${Math.round((ms / 60_000) * 10) / 10}m`;
}

function times(count: number): string {
  return count === 1 ? "once" : `${count} times`;
}
