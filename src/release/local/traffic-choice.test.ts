import { describe, expect, it } from "vitest";
import { cookieValues, matchesRoute, SmoothWeightedChoice } from "./traffic-choice";

function picks(weight: number, count: number): boolean[] {
  const choice = new SmoothWeightedChoice(weight);
  return Array.from({ length: count }, () => choice.next());
}

describe("smooth weighted choice", () => {
  it("keeps every prefix within one pick of the weight", () => {
    for (const weight of [0, 0.5, 1, 12.5, 33.3, 50, 72, 99.9, 100]) {
      let canary = 0;
      picks(weight, 2_000).forEach((isCanary, index) => {
        if (isCanary) canary += 1;
        expect(Math.abs(canary - ((index + 1) * weight) / 100), `weight ${weight} after ${index + 1}`).toBeLessThanOrEqual(1);
      });
    }
  });

  it("spreads the canary's picks instead of bunching them", () => {
    expect(picks(25, 8)).toEqual([false, false, true, false, false, false, true, false]);
    expect(picks(0, 100).some(Boolean)).toBe(false);
    expect(picks(100, 100).every(Boolean)).toBe(true);
  });
});

describe("routes", () => {
  it("matches a header by case-insensitive name and exact value, also among repeated values", () => {
    const route = { header: { name: "X-Beta", value: "yes" } };
    expect(matchesRoute(route, { "x-beta": "yes" })).toBe(true);
    expect(matchesRoute(route, { "x-beta": "no, yes" })).toBe(true);
    expect(matchesRoute(route, { "x-beta": "Yes" })).toBe(false);
    expect(matchesRoute(route, { "x-beta": "yes please" })).toBe(false);
    expect(matchesRoute(route, {})).toBe(false);
    expect(matchesRoute(undefined, { "x-beta": "yes" })).toBe(false);
  });

  it("matches a cookie by exact name and value", () => {
    const route = { cookie: { name: "beta", value: "on" } };
    expect(matchesRoute(route, { cookie: "beta=on" })).toBe(true);
    expect(matchesRoute(route, { cookie: "a=b;beta=on" })).toBe(true);
    expect(matchesRoute(route, { cookie: "mybeta=on; beta=off" })).toBe(false);
    expect(cookieValues('a=1; b="two"; a=3; broken', "a")).toEqual(["1", "3"]);
    expect(cookieValues('a=1; b="two"', "b")).toEqual(["two"]);
  });
});
