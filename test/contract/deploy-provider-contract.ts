// The DeployProvider contract (src/release/deploy-provider.ts, points 1–8) as a vitest suite every
// provider runs: describeProviderContract("fc", async () => harness). Each test gets a fresh target.
import { afterEach, describe, expect, it } from "vitest";
import { isGustError } from "../../src/errors";
import type { DeployProvider, ReleaseArtifact, TrafficSplit } from "../../src/release/deploy-provider";

export interface ProviderTarget {
  provider: DeployProvider;
  /** Artifact number n: the same n gives the same content, different n different content. */
  artifact(n: number): Promise<ReleaseArtifact>;
  /**
   * Requests the target's own figures will count for `version` (only where capabilities.metrics):
   * `ok` answered normally, `errors` with a server error.
   */
  sendTraffic?(version: string, requests: { ok: number; errors: number }): Promise<void>;
  /** The next call to the target's API is throttled the way the real service throttles. */
  throttleNext(): void;
  /** A second provider over the same target, as after a restart of Gust. */
  reopen(): Promise<DeployProvider>;
  teardown(): Promise<void>;
}

export interface ProviderHarness {
  /** A fresh target: nothing published by Gust; it may already serve a version deployed by other means. */
  target(): Promise<ProviderTarget>;
}

export function describeProviderContract(name: string, harness: ProviderHarness): void {
  describe(`deploy provider contract: ${name}`, () => {
    const open: ProviderTarget[] = [];
    const fresh = async () => {
      const target = await harness.target();
      open.push(target);
      return target;
    };
    afterEach(async () => {
      for (const target of open.splice(0)) {
        await target.provider.close();
        await target.teardown();
      }
    });

    /** A target serving version 1 alone, with version 2 published. */
    async function twoVersions() {
      const target = await fresh();
      const { provider } = target;
      const v1 = (await provider.publish(await target.artifact(1))).version;
      await provider.promote(v1);
      const v2 = (await provider.publish(await target.artifact(2))).version;
      return { target, provider, v1, v2 };
    }

    it("publishes an artifact as a version, and the same artifact as the same version (1)", async () => {
      const target = await fresh();
      const first = await target.provider.publish(await target.artifact(1));
      expect(first.created).toBe(true);
      expect(first.version).toBeTruthy();
      const again = await target.provider.publish(await target.artifact(1));
      expect(again).toEqual({ version: first.version, created: false });
      const reopened = await target.reopen();
      try {
        expect(await reopened.publish(await target.artifact(1))).toEqual({ version: first.version, created: false });
      } finally {
        await reopened.close();
      }
      const other = await target.provider.publish(await target.artifact(2));
      expect(other.created).toBe(true);
      expect(other.version).not.toBe(first.version);
    });

    it("does not move traffic when publishing (1)", async () => {
      const { target, provider, v1 } = await twoVersions();
      expect(await provider.traffic()).toEqual({ stable: v1 });
      await provider.publish(await target.artifact(3));
      expect(await provider.traffic()).toEqual({ stable: v1 });
    });

    it("sends a weight to the canary, rounding up only, and applies a split again without change (2, 3)", async () => {
      const { provider, v1, v2 } = await twoVersions();
      const live = await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 20 } });
      expect(live.stable).toBe(v1);
      expect(live.canary?.version).toBe(v2);
      expect(live.canary!.weight).toBeGreaterThanOrEqual(20);
      expect(live.canary!.weight).toBeLessThanOrEqual(100);
      expect(await provider.traffic()).toEqual(live);
      expect(await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 20 } })).toEqual(live);
      const more = await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } });
      expect(more.canary!.weight).toBeGreaterThanOrEqual(Math.max(50, live.canary!.weight));
      expect(await provider.traffic()).toEqual(more);
    });

    it("promotes: the version alone serves everything (4)", async () => {
      const { provider, v1, v2 } = await twoVersions();
      await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 30 } });
      expect(await provider.promote(v2)).toEqual({ stable: v2 });
      expect(await provider.traffic()).toEqual({ stable: v2 });
      expect(await provider.promote(v2)).toEqual({ stable: v2 });
    });

    it("rolls back to exactly the split that was live before (4)", async () => {
      const { target, provider, v1, v2 } = await twoVersions();
      const before: TrafficSplit = await provider.traffic();
      await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 40 } });
      expect(await provider.rollback(before)).toEqual(before);
      expect(await provider.traffic()).toEqual(before);
      expect(await provider.rollback(before)).toEqual(before);
      // A rollback also undoes a promotion that went through before it.
      await provider.promote(v2);
      expect(await provider.rollback(before)).toEqual({ stable: v1 });
      const reopened = await target.reopen();
      try {
        expect(await reopened.traffic()).toEqual({ stable: v1 });
      } finally {
        await reopened.close();
      }
    });

    it("routes by header or cookie where the target can, and refuses a route it cannot apply (3)", async () => {
      const { provider, v1, v2 } = await twoVersions();
      const header = { stable: v1, canary: { version: v2, weight: 0 }, route: { header: { name: "x-canary", value: "yes" } } };
      if (provider.capabilities.routes.includes("header")) {
        const live = await provider.setTraffic(header);
        expect(live).toMatchObject({ stable: v1, canary: { version: v2 }, route: header.route });
        expect(await provider.traffic()).toEqual(live);
      } else {
        const error = await provider.setTraffic(header).catch((caught: unknown) => caught);
        expect(isGustError(error) && error.retryable === false).toBe(true);
        expect(await provider.traffic()).toEqual({ stable: v1 });
      }
      const cookie = { stable: v1, canary: { version: v2, weight: 10 }, route: { cookie: { name: "canary", value: "1" } } };
      if (provider.capabilities.routes.includes("cookie")) {
        const live = await provider.setTraffic(cookie);
        expect(live.route).toEqual(cookie.route);
        expect(live.canary!.weight).toBeGreaterThanOrEqual(10);
      } else {
        await expect(provider.setTraffic(cookie)).rejects.toSatisfy((error: unknown) => isGustError(error) && !error.retryable);
      }
    });

    it("lists versions and deletes only one that serves nothing (6)", async () => {
      const { target, provider, v1, v2 } = await twoVersions();
      const v3 = (await provider.publish(await target.artifact(3))).version;
      const listed = (await provider.versions()).map((entry) => entry.version);
      expect(listed).toEqual(expect.arrayContaining([v1, v2, v3]));
      expect(listed.indexOf(v3)).toBeLessThan(listed.indexOf(v1));
      await provider.setTraffic({ stable: v1, canary: { version: v3, weight: 10 } });
      for (const serving of [v1, v3]) {
        const error = await provider.deleteVersion(serving).catch((caught: unknown) => caught);
        expect(isGustError(error) && !error.retryable, `deleting serving version ${serving}`).toBe(true);
      }
      await provider.deleteVersion(v2);
      await provider.deleteVersion(v2);
      const left = (await provider.versions()).map((entry) => entry.version);
      expect(left).not.toContain(v2);
      expect(left).toEqual(expect.arrayContaining([v1, v3]));
    });

    it("reports a throttled call as a retryable error and succeeds when called again (7)", async () => {
      const { target, provider, v1, v2 } = await twoVersions();
      target.throttleNext();
      const error = await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 10 } }).catch((caught: unknown) => caught);
      expect(isGustError(error), String(error)).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      const live = await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 10 } });
      expect(live.canary?.version).toBe(v2);
    });

    it("gives a version's own figures over a window, or none when the target keeps none (5)", async () => {
      const { target, provider, v1, v2 } = await twoVersions();
      await provider.setTraffic({ stable: v1, canary: { version: v2, weight: 50 } });
      const from = new Date(Date.now() - 1_000);
      if (!provider.capabilities.metrics) {
        expect(await provider.metrics(v2, { from, to: new Date(Date.now() + 1_000) })).toBeUndefined();
        return;
      }
      expect(target.sendTraffic, "a harness for a target with metrics sends traffic").toBeDefined();
      const empty = await provider.metrics(v2, { from, to: new Date() });
      expect(empty?.requests).toBe(0);
      await target.sendTraffic!(v2, { ok: 30, errors: 10 });
      await target.sendTraffic!(v1, { ok: 5, errors: 0 });
      const figures = await provider.metrics(v2, { from, to: new Date(Date.now() + 1_000) });
      expect(figures).toMatchObject({ requests: 40, errors: 10 });
      expect(figures!.latencyMs!.p50).toBeGreaterThanOrEqual(0);
      expect(figures!.latencyMs!.p99).toBeGreaterThanOrEqual(figures!.latencyMs!.p50);
      const stable = await provider.metrics(v1, { from, to: new Date(Date.now() + 1_000) });
      expect(stable).toMatchObject({ requests: 5, errors: 0 });
    });
  });
}
