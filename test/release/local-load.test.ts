// Traffic moves while requests keep coming: weights change, a version is promoted (the other one
// drains and stops), rolled back (started again first) — and no request fails.
import { afterEach, describe, expect, it } from "vitest";
import { createLocalTarget, requestRouter, type LocalTestTarget, type RouterAnswer } from "./fixtures/local-harness";

const targets: LocalTestTarget[] = [];
afterEach(async () => {
  for (const target of targets.splice(0)) await target.teardown();
});

describe("local target under load", () => {
  it("drops no request while the split changes continuously", async () => {
    const local = await createLocalTarget();
    targets.push(local);
    const { provider } = local;
    const v1 = (await provider.publish(await local.artifact(1))).version;
    const v2 = (await provider.publish(await local.artifact(2))).version;
    await provider.promote(v1);

    const answers: RouterAnswer[] = [];
    const failures: unknown[] = [];
    let running = true;
    const paths = ["/", "/slow?ms=20", "/", "/slow?ms=5"];
    const workers = Array.from({ length: 12 }, async (_, worker) => {
      for (let i = worker; running; i++) {
        try {
          answers.push(await requestRouter(local.port, paths[i % paths.length]!));
        } catch (error) {
          failures.push(error);
        }
      }
    });
    /** Lets some requests through on the current split before the next change. */
    const traffic = async () => {
      const target = answers.length + failures.length + 40;
      while (answers.length + failures.length < target) await new Promise((resolve) => setImmediate(resolve));
    };

    const changes = [
      () => provider.setTraffic({ stable: v1, canary: { version: v2, weight: 5 } }),
      () => provider.setTraffic({ stable: v1, canary: { version: v2, weight: 33.3 } }),
      () => provider.setTraffic({ stable: v1, canary: { version: v2, weight: 80 }, route: { cookie: { name: "beta", value: "1" } } }),
      () => provider.promote(v2),
      () => provider.rollback({ stable: v1 }),
      () => provider.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } }),
      () => provider.setTraffic({ stable: v2, canary: { version: v1, weight: 50 } }),
      () => provider.promote(v1),
      () => provider.setTraffic({ stable: v1, canary: { version: v2, weight: 100 } }),
      () => provider.promote(v2),
    ];
    for (let round = 0; round < 2; round++) {
      for (const change of changes) {
        await traffic();
        await change();
      }
    }
    await traffic();
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(answers.every((answer) => answer.body === `v${answer.version}`)).toBe(true);
    const seen = new Set(answers.map((answer) => answer.version));
    expect(seen).toEqual(new Set([v1, v2]));
    expect(answers.length).toBeGreaterThanOrEqual(changes.length * 2 * 40);
  });
});
