import { describe, expect, it } from "vitest";
import { ProviderError } from "../errors";
import type { ReleaseDef } from "../pipeline/model";
import { normalizeSplit, type DeployProvider, type TrafficSplit } from "./deploy-provider";
import { ReleaseDriver, type PendingCommand, type TickSave } from "./release-driver";
import { initialState, type ReleaseState } from "./release-state";

const DEF: ReleaseDef = {
  needs: ["build"],
  target: { type: "local", command: "node app.js", port: 8080, env: {} },
  steps: [{ kind: "weight", weight: 20 }, { kind: "pause" }, { kind: "weight", weight: 60 }],
  progressDeadlineMs: 600_000,
  rollback: "auto",
  keepVersions: 2,
};

/** A target in memory: versions 1.. and a live split; `failNext` makes calls fail. */
function memoryProvider() {
  let live: TrafficSplit = { stable: "1" };
  const versions = ["1"];
  const calls: string[] = [];
  /** The next call of that name fails with that error. */
  const failures = new Map<string, Error>();
  const step = (name: string) => {
    calls.push(name);
    const failure = failures.get(name);
    failures.delete(name);
    if (failure) throw failure;
  };
  const provider: DeployProvider = {
    target: "memory",
    capabilities: { routes: [], metrics: false },
    async publish() {
      step("publish");
      if (!versions.includes("2")) versions.push("2");
      return { version: "2", created: true };
    },
    async traffic() {
      step("traffic");
      return live;
    },
    async setTraffic(split) {
      step(`set ${split.canary?.weight ?? 0}`);
      return (live = normalizeSplit(split));
    },
    async promote(version) {
      step("promote");
      return (live = { stable: version });
    },
    async rollback(previous) {
      step("rollback");
      return (live = previous);
    },
    async metrics() {
      return undefined;
    },
    async versions() {
      return [...versions].reverse().map((version) => ({ version }));
    },
    async deleteVersion(version) {
      versions.splice(versions.indexOf(version), 1);
    },
    async close() {},
  };
  return { provider, calls, failures, live: () => live };
}

function driver(target: ReturnType<typeof memoryProvider>, state: ReleaseState, saves: TickSave[], commands: PendingCommand[] = [], now = () => 1_000) {
  return new ReleaseDriver({
    def: DEF,
    state,
    provider: target.provider,
    artifact: async () => ({ path: "/tmp/x", digest: "d2", description: "test" }),
    measure: async () => [],
    save: async (tick) => {
      saves.push(structuredClone(tick));
      return true;
    },
    commands: async () => commands.splice(0),
    cancelled: () => undefined,
    log: () => undefined,
    now,
  });
}

/** Runs the driver until it pauses (the strategy's open pause), then stops it. */
async function runUntilPaused(subject: ReleaseDriver, attempts = 100) {
  const running = subject.run();
  for (let i = 0; i < attempts && subject.current.phase !== "paused"; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  subject.stop();
  return running;
}

describe("release driver", () => {
  it("stores each tick before its call, so a new driver from the stored state carries on without repeating work", async () => {
    const target = memoryProvider();
    const saves: TickSave[] = [];
    const first = driver(target, initialState(1_000), saves);
    // It pauses at step 2 and waits for a person.
    expect(await runUntilPaused(first)).toEqual({ ended: false, reason: "stopped" });
    expect(target.calls).toEqual(["publish", "traffic", "set 20"]);
    expect(saves.at(-1)!.summary).toMatch(/^paused \(version 1 80%, version 2 20%\)/);

    // "After a restart": the stored state and a promote command.
    const stored = JSON.parse(JSON.stringify(saves.at(-1)!.state)) as ReleaseState;
    const commands = [{ id: 7, command: "resume", requestedBy: "alice" }];
    const second = driver(target, stored, saves, commands);
    const result = await second.run();
    expect(result).toMatchObject({ ended: true, state: { phase: "promoted" } });
    expect(target.calls.slice(3)).toEqual(["set 60", "promote", "traffic"]);
    expect(target.live()).toEqual({ stable: "2" });
    expect(saves.some((save) => save.consumedCommands.includes(7))).toBe(true);
  });

  it("retries a retryable provider error after its backoff", async () => {
    const target = memoryProvider();
    target.failures.set("publish", new ProviderError("Throttling", { retryable: true, retryAfterMs: 1 }));
    const saves: TickSave[] = [];
    await runUntilPaused(driver(target, initialState(Date.now()), saves, [], Date.now), 400);
    expect(target.calls.slice(0, 3)).toEqual(["publish", "publish", "traffic"]);
    expect(saves.some((save) => /retrying: publish failed: Throttling/.test(save.summary))).toBe(true);
  });

  it("fails on a permanent provider error after restoring the traffic it had moved", async () => {
    const target = memoryProvider();
    const saves: TickSave[] = [];
    const first = driver(target, initialState(1_000), saves);
    await runUntilPaused(first);
    expect(target.live()).toEqual({ stable: "1", canary: { version: "2", weight: 20 } });
    target.failures.set("set 60", new ProviderError("AccessDenied", { retryable: false, fault: "user" }));
    const result = await driver(target, first.current, saves, [{ id: 1, command: "resume", requestedBy: "bob" }]).run();
    expect(result).toMatchObject({ ended: true, state: { phase: "failed", result: "set-traffic failed: AccessDenied" } });
    expect(target.calls.slice(-2)).toEqual(["set 60", "rollback"]);
    expect(target.live()).toEqual({ stable: "1" });
  });
});
