// The SAE provider's pure parts: weights as instances, the next call from what SAE shows, the
// version ledger and grey tag rules.
import { describe, expect, it } from "vitest";
import { isGustError } from "../../src/errors";
import { greyTagRules, routeOfRules } from "../../src/release/sae/sae-grey-route";
import { goalOf, grayStrategy, instancesForWeight, nextStep, orderPhase, splitOf, weightOfInstances, type SaeView } from "../../src/release/sae/sae-plan";
import { deploymentOf, ledgerKey, ledgerName, ledgerWith, ledgerWithout, readLedger } from "../../src/release/sae/sae-versions";

function view(overrides: Partial<SaeView> = {}): SaeView {
  return { replicas: 4, configured: "v1", running: { v1: 4 }, greyTagRouteEnabled: false, ...overrides };
}

describe("weights as instances", () => {
  it("rounds up to whole instances, at least one, and a reported weight maps back to the same count", () => {
    for (let replicas = 1; replicas <= 12; replicas += 1) {
      for (let weight = 1; weight <= 100; weight += 1) {
        const instances = instancesForWeight(weight, replicas);
        expect(instances).toBeGreaterThanOrEqual(1);
        expect(weightOfInstances(instances, replicas)).toBeGreaterThanOrEqual(weight);
        expect(instancesForWeight(weightOfInstances(instances, replicas), replicas)).toBe(instances);
      }
    }
    expect(instancesForWeight(0, 4)).toBe(0);
    expect(instancesForWeight(20, 4)).toBe(1);
    expect(instancesForWeight(26, 4)).toBe(2);
  });

  it("starts with a gray batch of at most half the instances and one instance per later batch", () => {
    expect(grayStrategy(1, 4)).toMatchObject({ gray: 1, batch: 3 });
    expect(grayStrategy(4, 5)).toMatchObject({ gray: 2, batch: 3 });
    expect(JSON.parse(grayStrategy(2, 3)!.json)).toEqual({ type: "GrayBatchUpdate", grayUpdate: { gray: 1 }, batchUpdate: { batch: 2, releaseType: "manual" } });
    expect(grayStrategy(1, 1)).toBeUndefined();
    expect(grayStrategy(4, 4)).toBeUndefined();
  });

  it("turns a weight that needs every instance into the canary alone, and a route into at least one instance", () => {
    expect(goalOf({ stable: "v1", canary: { version: "v2", weight: 60 } }, 2)).toEqual({ kind: "alone", version: "v2" });
    expect(goalOf({ stable: "v1", canary: { version: "v2", weight: 5 } }, 1)).toEqual({ kind: "alone", version: "v2" });
    const route = { header: { name: "x-canary", value: "1" } };
    expect(goalOf({ stable: "v1", canary: { version: "v2", weight: 0 }, route }, 4)).toEqual({ kind: "canary", stable: "v1", version: "v2", instances: 1, route });
    expect(goalOf({ stable: "v1" }, 4)).toEqual({ kind: "alone", version: "v1" });
  });
});

describe("what SAE serves", () => {
  it("reads change order statuses, a failed batch that keeps the order open included", () => {
    expect([0, 1, 2, 3, 6, 8, 9, 10, 11, 12].map((status) => orderPhase(status))).toEqual(["running", "running", "succeeded", "failed", "terminated", "waiting", "running", "failed", "running", "running"]);
    expect(orderPhase(1, 1)).toBe("stuck");
  });

  it("calls the configured version the canary while other instances still run the old one", () => {
    const order = { id: "co", phase: "waiting" as const };
    expect(splitOf(view({ configured: "v2", running: { v1: 3, v2: 1 }, order }))).toEqual({ stable: "v1", canary: { version: "v2", weight: 25 } });
    expect(splitOf(view({ configured: "v2", running: { v1: 4 }, order }))).toEqual({ stable: "v1" });
    expect(splitOf(view({ configured: null, running: {} }))).toEqual({ stable: null });
    const route = { cookie: { name: "beta", value: "1" } };
    expect(splitOf(view({ configured: "v2", running: { v1: 3, v2: 1 }, order, route, greyTagRouteEnabled: true })).route).toEqual(route);
    expect(splitOf(view({ configured: "v2", running: { v1: 3, v2: 1 }, route, greyTagRouteEnabled: true })).route).toBeUndefined();
  });
});

describe("the next call", () => {
  const canary = { kind: "canary" as const, stable: "v1", version: "v2", instances: 2 };

  it("deploys from a settled application, the stable version first when another one serves", () => {
    expect(nextStep(view(), canary)).toEqual({ kind: "deploy", version: "v2", instances: 2, greyTagRoute: false });
    expect(nextStep(view({ configured: "v0", running: { v0: 4 } }), canary)).toEqual({ kind: "deploy", version: "v1", greyTagRoute: false });
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 } }), { kind: "alone", version: "v1" })).toEqual({ kind: "deploy", version: "v1", greyTagRoute: false });
    expect(nextStep(view(), { kind: "alone", version: "v1" })).toEqual({ kind: "done" });
  });

  it("follows its change order: waits while a batch runs, confirms batches until enough instances moved", () => {
    const waiting = { id: "co", phase: "waiting" as const, waitingPipelineId: "p2" };
    expect(nextStep(view({ configured: "v2", running: { v1: 4 }, order: { id: "co", phase: "running" } }), canary)).toEqual({ kind: "wait" });
    expect(nextStep(view({ configured: "v2", running: { v1: 3, v2: 1 }, order: waiting }), canary)).toEqual({ kind: "confirm", pipelineId: "p2" });
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 }, order: waiting }), canary)).toEqual({ kind: "done" });
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 }, order: waiting }), { kind: "alone", version: "v2" })).toEqual({ kind: "confirm", pipelineId: "p2" });
  });

  it("aborts an order that goes elsewhere, moved too many instances, or lacks the grey tag route", () => {
    const waiting = { id: "co", phase: "waiting" as const, waitingPipelineId: "p2" };
    expect(nextStep(view({ configured: "v3", running: { v1: 3, v3: 1 }, order: waiting }), canary)).toEqual({ kind: "abort", changeOrderId: "co" });
    expect(nextStep(view({ configured: "v2", running: { v1: 1, v2: 3 }, order: waiting }), canary)).toEqual({ kind: "abort", changeOrderId: "co" });
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 }, order: waiting }), { kind: "alone", version: "v1" })).toEqual({ kind: "abort", changeOrderId: "co" });
    const route = { header: { name: "x", value: "y" } };
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 }, order: waiting }), { ...canary, route })).toEqual({ kind: "abort", changeOrderId: "co" });
  });

  it("fails on its own stuck order but rolls a stuck order back when going back", () => {
    const stuck = { id: "co", phase: "stuck" as const, errorMessage: "probe failed" };
    expect(nextStep(view({ configured: "v2", running: { v1: 3, v2: 1 }, order: stuck }), canary)).toEqual({ kind: "fail", message: "SAE change order co failed: probe failed" });
    expect(nextStep(view({ configured: "v2", running: { v1: 3, v2: 1 }, order: stuck }), { kind: "alone", version: "v1" })).toEqual({ kind: "abort", changeOrderId: "co" });
  });

  it("sets, changes and removes Gust's grey tag route around the canary", () => {
    const route = { header: { name: "x-canary", value: "yes" } };
    const waiting = { id: "co", phase: "waiting" as const };
    expect(nextStep(view(), { ...canary, route })).toEqual({ kind: "set-route", route });
    expect(nextStep(view({ route }), { ...canary, route })).toEqual({ kind: "deploy", version: "v2", instances: 2, greyTagRoute: true });
    expect(nextStep(view({ configured: "v2", running: { v1: 2, v2: 2 }, order: waiting, greyTagRouteEnabled: true }), { ...canary, route })).toEqual({ kind: "set-route", route });
    expect(nextStep(view({ route }), { kind: "alone", version: "v1" })).toEqual({ kind: "delete-route" });
  });
});

describe("the version ledger", () => {
  it("names its ConfigMap and keys in the forms SAE accepts", () => {
    expect(ledgerName("7171a6ca-d1cd-4928-8642-7d5cfe69abcd")).toMatch(/^[a-z][a-z0-9]*$/);
    expect(ledgerKey("registry.cn-hangzhou.aliyuncs.com/acme/shop:1")).toMatch(/^[-._a-zA-Z0-9]+$/);
  });

  it("keeps records newest first, skips entries it did not write, and forgets one on request", () => {
    const deployment = (image: string) => ({ version: image, imageUrl: image });
    let data: Record<string, unknown> = { "someone-else": "hello", [ledgerKey("forged")]: JSON.stringify({ version: "other", digest: "d", seq: 9, deployment: deployment("x") }) };
    data = ledgerWith(data, { version: "a", digest: "1", description: "", createdAt: "2025-01-01T00:00:00.000Z", deployment: deployment("a") }).data;
    data = ledgerWith(data, { version: "b", digest: "2", description: "", createdAt: "2025-01-01T00:00:00.000Z", deployment: deployment("b") }).data;
    expect(readLedger(data).map((record) => record.version)).toEqual(["b", "a"]);
    expect(data["someone-else"]).toBe("hello");
    expect(readLedger(ledgerWithout(data, "b")).map((record) => record.version)).toEqual(["a"]);
  });

  it("takes an image for an image application and a package URL and label for a package application", () => {
    const target = { appId: "app" };
    expect(deploymentOf({ image: "r/a:1", digest: "d", description: "" }, target, "Image")).toEqual({ version: "r/a:1", imageUrl: "r/a:1" });
    expect(deploymentOf({ packageUrl: "https://x/a.jar", packageVersion: "1.2", digest: "d", description: "" }, target, "FatJar")).toEqual({ version: "1.2", packageUrl: "https://x/a.jar", packageVersion: "1.2" });
    for (const [artifact, type] of [[{ packageUrl: "https://x/a.jar", packageVersion: "1" }, "Image"], [{ image: "r/a:1" }, "War"], [{ path: "/tmp/a.jar" }, "FatJar"]] as const) {
      const error = (() => {
        try {
          deploymentOf({ ...artifact, digest: "d", description: "" }, target, type);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isGustError(error) && error.fault === "user" && !error.retryable, `${JSON.stringify(artifact)} on ${type}`).toBe(true);
    }
  });
});

describe("grey tag rules", () => {
  it("writes header and cookie items that read back as the same route", () => {
    const route = { header: { name: "x-canary", value: "yes" }, cookie: { name: "beta", value: "1" } };
    const alb = greyTagRules(route, { kind: "alb", ingressId: "23" });
    expect(alb.param).toBe("AlbRules");
    expect(JSON.parse(alb.json)[0]).toMatchObject({ condition: "OR", ingressId: "23" });
    expect(routeOfRules(JSON.parse(alb.json))).toEqual(route);
    const sc = greyTagRules({ cookie: route.cookie }, { kind: "spring-cloud", path: "/" });
    expect(sc.param).toBe("ScRules");
    expect(routeOfRules(JSON.parse(sc.json))).toEqual({ cookie: route.cookie });
    expect(routeOfRules([])).toBeUndefined();
  });
});
