import { describe, expect, it } from "vitest";
import type { AnalysisDef, CanaryStep, ReleaseDef } from "../pipeline/model";
import type { TrafficSplit } from "./deploy-provider";
import { initialState, type Action, type Observation, type ReleaseState } from "./release-state";
import { commandProblem, DEFAULT_ANALYSIS_INTERVALS, tick } from "./release-tick";

const MINUTE = 60_000;
const ANALYSIS: AnalysisDef = {
  intervalMs: MINUTE,
  failureLimit: 0,
  inconclusiveLimit: 1,
  minRequests: 10,
  metrics: [{ name: "error-rate", source: { kind: "builtin", metric: "error-rate" }, max: 0.01 }],
};

function release(steps: CanaryStep[], extra: Partial<ReleaseDef> = {}): ReleaseDef {
  return {
    needs: ["build"],
    target: { type: "local", command: "node app.js", port: 8080, env: {} },
    steps,
    progressDeadlineMs: 10 * MINUTE,
    rollback: "auto",
    keepVersions: 3,
    ...extra,
  };
}

/** A fake target that answers actions the way a provider would, and a clock. */
class Simulation {
  state: ReleaseState;
  now = 1_000_000;
  live: TrafficSplit;
  readonly actions: Action[] = [];
  readonly phases: string[] = [];
  wakeAt: number | undefined;
  /** Error rate the canary shows when measured; undefined: no requests. */
  errorRate: number | undefined = 0;

  constructor(
    readonly def: ReleaseDef,
    live: TrafficSplit = { stable: "1" },
    readonly published = "2",
  ) {
    this.live = live;
    this.state = initialState(this.now);
  }

  /** Ticks with `observations`, then keeps answering actions until the release waits. */
  run(observations: Observation[] = []): this {
    let pending = observations;
    for (let guard = 0; guard < 50; guard += 1) {
      const result = tick(this.def, this.state, pending, this.now);
      // The driver stores the state as JSON: ticking must work from a round trip.
      this.state = JSON.parse(JSON.stringify(result.state)) as ReleaseState;
      for (const transition of result.transitions) this.phases.push(transition.to);
      this.wakeAt = result.wakeAt;
      if (!result.action) return this;
      this.actions.push(result.action);
      pending = [this.answer(result.action)];
    }
    throw new Error("the release never settled");
  }

  /** Moves the clock to the next wake-up and ticks. */
  wake(): this {
    expect(this.wakeAt, "the release asked to be woken").toBeDefined();
    this.now = Math.max(this.now, this.wakeAt!);
    return this.run();
  }

  answer(action: Action): Observation {
    switch (action.kind) {
      case "publish":
        return { kind: "published", version: this.published, created: true };
      case "read-traffic":
        return { kind: "traffic-read", split: this.live };
      case "set-traffic":
        this.live = action.split;
        return { kind: "traffic-set", split: this.live };
      case "promote":
        this.live = { stable: action.version };
        return { kind: "traffic-set", split: this.live };
      case "rollback":
        this.live = action.to;
        return { kind: "traffic-set", split: this.live };
      case "measure":
        return { kind: "measured", at: this.now, metrics: [{ name: "error-rate", ...(this.errorRate === undefined ? { requests: 0 } : { value: this.errorRate, requests: 100 }) }] };
      case "prune":
        return { kind: "pruned", deleted: [] };
    }
  }

  kinds(): string[] {
    return this.actions.map((action) => (action.kind === "set-traffic" ? `weight ${action.split.canary?.weight ?? 0}` : action.kind));
  }
}

describe("release tick", () => {
  it("gives the first version all traffic at once: nothing else is served to compare with", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }]), { stable: null }, "1").run();
    expect(sim.kinds()).toEqual(["publish", "read-traffic", "promote", "prune"]);
    expect(sim.state.phase).toBe("promoted");
    expect(sim.live).toEqual({ stable: "1" });
    expect(sim.state.result).toMatch(/nothing is served yet|serves all traffic/);
  });

  it("walks weights and timed pauses, then promotes", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 20 }, { kind: "pause", durationMs: 5 * MINUTE }, { kind: "weight", weight: 50 }])).run();
    expect(sim.kinds()).toEqual(["publish", "read-traffic", "weight 20"]);
    expect(sim.live).toEqual({ stable: "1", canary: { version: "2", weight: 20 } });
    expect(sim.wakeAt).toBe(sim.now + 5 * MINUTE);
    sim.now += MINUTE;
    sim.run();
    expect(sim.actions).toHaveLength(3);
    sim.wake();
    expect(sim.kinds().slice(3)).toEqual(["weight 50", "promote", "prune"]);
    expect(sim.phases).toEqual(["progressing", "promoted"]);
    expect(sim.live).toEqual({ stable: "2" });
  });

  it("accepts a weight the target rounded up and does not ask again", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }, { kind: "pause" }]));
    const original = sim.answer.bind(sim);
    sim.answer = (action) => {
      if (action.kind !== "set-traffic") return original(action);
      sim.live = { ...action.split, canary: { version: "2", weight: 25 } };
      return { kind: "traffic-set", split: sim.live };
    };
    sim.run();
    expect(sim.kinds()).toEqual(["publish", "read-traffic", "weight 10"]);
    expect(sim.state.phase).toBe("paused");
  });

  it("measures every interval while the canary takes traffic and rolls back on a failed analysis", () => {
    const before = { stable: "1", canary: { version: "0", weight: 5 } };
    const sim = new Simulation(release([{ kind: "weight", weight: 20 }, { kind: "analysis" }, { kind: "weight", weight: 60 }], { analysis: ANALYSIS }), before).run();
    expect(sim.wakeAt).toBe(sim.now + MINUTE);
    sim.wake();
    expect(sim.kinds().at(-1)).toBe("measure");
    expect(sim.state.analysis.passedInStep).toBe(1);
    sim.errorRate = 0.2;
    sim.wake();
    expect(sim.state.phase).toBe("rolled-back");
    expect(sim.actions.at(-1)).toEqual({ kind: "rollback", to: before });
    // Exactly the split live before, the other canary included.
    expect(sim.live).toEqual(before);
    expect(sim.state.result).toMatch(/analysis failed once \(error-rate 20% > max 1%\)/);
    expect(sim.phases).toEqual(["progressing", "rolling-back", "rolled-back"]);
  });

  it("passes an analysis step after its duration with a passing measurement", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 20 }, { kind: "analysis" }], { analysis: ANALYSIS })).run();
    for (let minute = 0; minute < DEFAULT_ANALYSIS_INTERVALS; minute += 1) sim.wake();
    expect(sim.state.phase).toBe("promoted");
    expect(sim.kinds().filter((kind) => kind === "measure")).toHaveLength(DEFAULT_ANALYSIS_INTERVALS);
  });

  it("never passes without data: inconclusive measurements pause the release for a person", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 20 }, { kind: "analysis" }], { analysis: ANALYSIS })).run();
    sim.errorRate = undefined;
    sim.wake();
    expect(sim.state.phase).toBe("progressing");
    sim.wake();
    expect(sim.state.phase).toBe("paused");
    expect(sim.state.pause?.reason).toMatch(/inconclusive 2 times \(error-rate .*requests/);
    expect(sim.wakeAt).toBeUndefined();
    // Resuming measures afresh; with data again it passes and promotes.
    sim.errorRate = 0;
    sim.run([{ kind: "command", command: "resume", by: "alice" }]);
    expect(sim.state.analysis.inconclusive).toBe(0);
    sim.wake();
    expect(sim.state.phase).toBe("promoted");
  });

  it("pauses on a failed analysis when rollback is manual, and rolls back on command", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 20 }, { kind: "analysis" }], { analysis: ANALYSIS, rollback: "manual" })).run();
    sim.errorRate = 0.5;
    sim.wake();
    expect(sim.state.phase).toBe("paused");
    expect(sim.live.canary?.weight).toBe(20);
    sim.run([{ kind: "command", command: "rollback", by: "bob" }]);
    expect(sim.state.phase).toBe("rolled-back");
    expect(sim.state.result).toBe("rolled back by bob");
    expect(sim.live).toEqual({ stable: "1" });
  });

  it("waits on an open pause until resumed, and promote skips the current step", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }, { kind: "pause" }, { kind: "weight", weight: 30 }, { kind: "pause" }, { kind: "weight", weight: 90 }])).run();
    expect(sim.state.phase).toBe("paused");
    expect(commandProblem(sim.state, "pause")).toMatch(/only a progressing release/);
    sim.run([{ kind: "command", command: "resume", by: "carol" }]);
    expect(sim.live.canary?.weight).toBe(30);
    expect(sim.state.phase).toBe("paused");
    sim.run([{ kind: "command", command: "promote", by: "carol" }]);
    expect(sim.kinds().slice(-3)).toEqual(["weight 90", "promote", "prune"]);
    expect(sim.state.phase).toBe("promoted");
  });

  it("promotes fully on command from any step", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }, { kind: "pause", durationMs: 60 * MINUTE }, { kind: "weight", weight: 50 }])).run();
    sim.run([{ kind: "command", command: "promote-full", by: "dave" }]);
    expect(sim.kinds().slice(-2)).toEqual(["promote", "prune"]);
    expect(sim.live).toEqual({ stable: "2" });
  });

  it("retries a provider error with backoff, and past the progress deadline aborts and rolls back", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }, { kind: "weight", weight: 50 }]));
    let result = tick(sim.def, sim.state, [{ kind: "published", version: "2", created: true }, { kind: "traffic-read", split: { stable: "1" } }], sim.now);
    result = tick(sim.def, result.state, [{ kind: "traffic-set", split: { stable: "1", canary: { version: "2", weight: 10 } } }], sim.now);
    expect(result.action).toEqual({ kind: "set-traffic", split: { stable: "1", canary: { version: "2", weight: 50 } } });
    // The move to 50% keeps failing.
    const failing = { kind: "provider-error", action: "set-traffic", message: "Throttling", retryable: true } as const;
    result = tick(sim.def, result.state, [{ ...failing, retryAfterMs: 5_000 }], sim.now);
    expect(result.state.retry?.nextAt).toBe(sim.now + 5_000);
    expect(result.action).toBeUndefined();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      sim.now = result.state.retry!.nextAt;
      result = tick(sim.def, result.state, [], sim.now);
      if (result.action?.kind !== "set-traffic") break;
      result = tick(sim.def, result.state, [failing], sim.now);
      if (!result.state.retry) break;
      delays.push(result.state.retry.nextAt - sim.now);
    }
    expect(delays.slice(0, 4)).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(Math.max(...delays)).toBe(60_000);
    expect(result.state.phase).toBe("rolling-back");
    expect(result.action).toEqual({ kind: "rollback", to: { stable: "1" } });
    expect(result.state.ending?.reason).toMatch(/no progress for 10m: set-traffic failed: Throttling/);
  });

  it("keeps retrying a rollback whatever the error: giving up would leave traffic split", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }, { kind: "pause" }])).run();
    let result = tick(sim.def, sim.state, [{ kind: "command", command: "abort", by: "erin" }], sim.now);
    expect(result.action?.kind).toBe("rollback");
    result = tick(sim.def, result.state, [{ kind: "provider-error", action: "rollback", message: "AccessDenied", retryable: false }], sim.now);
    expect(result.state.phase).toBe("rolling-back");
    expect(result.wakeAt).toBe(sim.now + 1_000);
    result = tick(sim.def, result.state, [], sim.now + 1_000);
    expect(result.action?.kind).toBe("rollback");
    result = tick(sim.def, result.state, [{ kind: "traffic-set", split: { stable: "1" } }], sim.now + 1_000);
    expect(result.state.phase).toBe("aborted");
    expect(result.state.result).toBe("aborted by erin");
  });

  it("fails without touching traffic when publishing is refused", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }]));
    const result = tick(sim.def, sim.state, [{ kind: "provider-error", action: "publish", message: "runtime is required", retryable: false }], sim.now);
    expect(result.state.phase).toBe("failed");
    expect(result.action).toBeUndefined();
    expect(result.transitions.map((transition) => transition.to)).toEqual(["rolling-back", "failed"]);
  });

  it("ends at once when the artifact is the version already serving", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 10 }]), { stable: "2" }).run();
    expect(sim.kinds()).toEqual(["publish", "read-traffic", "prune"]);
    expect(sim.state.result).toBe("version 2 already serves all traffic");
  });

  it("aborts when the pipeline is cancelled and restores the split", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 40 }, { kind: "pause" }])).run();
    sim.run([{ kind: "cancelled", reason: "the pipeline was cancelled" }]);
    expect(sim.state.phase).toBe("aborted");
    expect(sim.live).toEqual({ stable: "1" });
  });

  it("sends A/B requests to the canary by route from the first step", () => {
    const ab = { header: { name: "x-beta", value: "1" } };
    const sim = new Simulation(release([{ kind: "weight", weight: 0 }, { kind: "pause" }], { ab })).run();
    expect(sim.live).toEqual({ stable: "1", canary: { version: "2", weight: 0 }, route: ab });
  });

  it("pauses an analysis step whose canary takes no traffic instead of passing it", () => {
    const sim = new Simulation(release([{ kind: "analysis" }], { analysis: ANALYSIS })).run();
    expect(sim.state.phase).toBe("paused");
    expect(sim.state.pause?.reason).toMatch(/takes no traffic/);
  });

  it("decides the same action again from a stored state, as after a restart", () => {
    const sim = new Simulation(release([{ kind: "weight", weight: 30 }]));
    const first = tick(sim.def, sim.state, [{ kind: "published", version: "2", created: true }, { kind: "traffic-read", split: { stable: "1" } }], sim.now);
    const stored = JSON.parse(JSON.stringify(first.state)) as ReleaseState;
    expect(tick(sim.def, stored, [], sim.now + 5_000).action).toEqual(first.action);
  });
});
