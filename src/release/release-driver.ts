// Drives one release: ticks the controller (release-tick.ts), stores each result before acting on
// it, makes the one provider call the tick asked for and feeds its result back, and sleeps until
// the tick's wake-up time or a command. A restart resumes from the stored state: the next tick asks
// for the same idempotent call again.
import { isGustError, ProviderError } from "../errors";
import type { ReleaseDef } from "../pipeline/model";
import type { MetricReading } from "./analysis-judge";
import type { DeployProvider, ReleaseArtifact } from "./deploy-provider";
import { isFinalPhase, type Action, type Observation, type ReleaseCommandName, type ReleaseState, type TickResult, type Transition } from "./release-state";
import { describeSplit, tick } from "./release-tick";
import { pruneVersions } from "./version-pruning";

export interface PendingCommand {
  id: number;
  command: string;
  requestedBy: string;
}

/** What a tick stores: written before the action it asks for is made. */
export interface TickSave {
  state: ReleaseState;
  transitions: Transition[];
  consumedCommands: number[];
  summary: string;
  /** A transition happened or the weight moved: worth telling the forge. */
  report: boolean;
}

export interface ReleaseDriverOptions {
  def: ReleaseDef;
  state: ReleaseState;
  provider: DeployProvider;
  /** The artifact to publish, resolved when the tick asks to publish. */
  artifact(): Promise<ReleaseArtifact>;
  /** Readings of the analysis metrics for the version over [from, to]. */
  measure(version: string, from: number, to: number): Promise<MetricReading[]>;
  /** Stores the tick; false when this replica no longer owns the release (stop at once). */
  save(tick: TickSave): Promise<boolean>;
  commands(): Promise<PendingCommand[]>;
  /** Why the release must stop, once its pipeline was cancelled (checked every tick). */
  cancelled(): string | undefined;
  log(lines: string[]): void;
  onTransition?(transition: Transition, state: ReleaseState): void;
  now?(): number;
}

export type DriverResult = { ended: true; state: ReleaseState } | { ended: false; reason: "lease_lost" | "stopped" };

const COMMANDS: readonly string[] = ["promote", "promote-full", "pause", "resume", "abort", "rollback"];

export class ReleaseDriver {
  private stopped = false;
  private wake: (() => void) | undefined;
  private cancelSeen = false;
  private state: ReleaseState;

  constructor(private readonly options: ReleaseDriverOptions) {
    this.state = options.state;
    // A stored state that ended in rolling-back after a cancel has seen the cancel already.
    this.cancelSeen = options.state.ending !== undefined;
  }

  /** Wakes the driver now: a command was queued, or the pipeline was cancelled. */
  poke(): void {
    this.wake?.();
  }

  /** Stops after the current call; the release stays where it is for the next owner. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  get current(): ReleaseState {
    return this.state;
  }

  async run(): Promise<DriverResult> {
    const now = this.options.now ?? Date.now;
    let observations: Observation[] = [];
    while (!this.stopped) {
      const commands = await this.options.commands();
      for (const command of commands) {
        if (COMMANDS.includes(command.command)) observations.push({ kind: "command", command: command.command as ReleaseCommandName, by: command.requestedBy });
      }
      const cancelledBy = this.options.cancelled();
      if (cancelledBy !== undefined && !this.cancelSeen) {
        this.cancelSeen = true;
        observations.push({ kind: "cancelled", reason: cancelledBy });
      }
      const before = this.state;
      const result = tick(this.options.def, before, observations, now());
      observations = [];
      const saved = await this.options.save({
        state: result.state,
        transitions: result.transitions,
        consumedCommands: commands.map((command) => command.id),
        summary: summarize(result.state),
        report: result.transitions.length > 0 || (before.live?.canary?.weight ?? 0) !== (result.state.live?.canary?.weight ?? 0),
      });
      if (!saved) return { ended: false, reason: "lease_lost" };
      this.state = result.state;
      if (result.log.length > 0) this.options.log(result.log);
      for (const transition of result.transitions) this.options.onTransition?.(transition, result.state);
      if (result.action) {
        observations = [await this.perform(result.action)];
        continue;
      }
      if (isFinalPhase(result.state.phase)) return { ended: true, state: result.state };
      await this.sleep(result);
    }
    return { ended: false, reason: "stopped" };
  }

  private async perform(action: Action): Promise<Observation> {
    const { provider } = this.options;
    try {
      switch (action.kind) {
        case "publish": {
          const published = await provider.publish(await this.options.artifact());
          return { kind: "published", version: published.version, created: published.created };
        }
        case "read-traffic":
          return { kind: "traffic-read", split: await provider.traffic() };
        case "set-traffic":
          return { kind: "traffic-set", split: await provider.setTraffic(action.split) };
        case "promote":
          return { kind: "traffic-set", split: await provider.promote(action.version) };
        case "rollback":
          return { kind: "traffic-set", split: await provider.rollback(action.to) };
        case "measure": {
          const metrics = await this.options.measure(action.version, action.from, action.to);
          return { kind: "measured", at: action.to, metrics };
        }
        case "prune":
          return { kind: "pruned", deleted: await pruneVersions(provider, action.keep, action.protect) };
      }
    } catch (error) {
      const retryAfterMs = error instanceof ProviderError ? error.retryAfterMs : undefined;
      return {
        kind: "provider-error",
        action: action.kind,
        message: error instanceof Error ? error.message : String(error),
        // Anything but a typed permanent refusal may pass on its own (a network blip, a restart).
        retryable: isGustError(error) ? error.retryable : true,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
  }

  private sleep(result: TickResult): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    return new Promise((resolve) => {
      const timer = result.wakeAt === undefined ? undefined : setTimeout(done, Math.max(0, result.wakeAt - now));
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

/** One line for the release job's detail and the forge's check: where it stands. */
export function summarize(state: ReleaseState): string {
  if (state.result && (state.phase === "promoted" || state.phase === "rolled-back" || state.phase === "aborted" || state.phase === "failed")) {
    return `${state.phase}: ${state.result}`;
  }
  const live = state.live ? describeSplit(state.live) : "traffic unchanged";
  switch (state.phase) {
    case "publishing":
      return `publishing the version${state.retry ? ` — retrying: ${state.retry.error}` : ""}`;
    case "paused":
      return `paused (${live}): ${state.pause?.reason ?? ""}`;
    case "rolling-back":
      return `rolling back: ${state.ending?.reason ?? ""}`;
    default:
      return `${state.phase}: ${live}${state.retry ? ` — retrying: ${state.retry.error}` : ""}`;
  }
}
