import { describe, expect, it } from "vitest";
import { compareValues, getProperty, isTruthy, looseEquals, stringify, toNumber } from "./values";
import type { Value } from "./types";

describe("isTruthy", () => {
  it("treats false, 0, -0, NaN, '' and null as falsy", () => {
    for (const v of [false, 0, -0, Number.NaN, "", null]) expect(isTruthy(v)).toBe(false);
  });

  it("treats everything else as truthy", () => {
    for (const v of [true, 1, -1, 0.1, Number.POSITIVE_INFINITY, "0", "false", " ", [], {}, [0], { a: null }] as Value[]) {
      expect(isTruthy(v)).toBe(true);
    }
  });
});

describe("stringify", () => {
  it("formats values for interpolation", () => {
    expect(stringify(null)).toBe("");
    expect(stringify("x")).toBe("x");
    expect(stringify(true)).toBe("true");
    expect(stringify(false)).toBe("false");
    expect(stringify(42)).toBe("42");
    expect(stringify(1.5)).toBe("1.5");
    expect(stringify(-0)).toBe("0");
    expect(stringify(1e21)).toBe("1e+21");
    expect(stringify(Number.NaN)).toBe("NaN");
    expect(stringify([1, "a", null])).toBe('[1,"a",null]');
    expect(stringify({ a: { b: [true] } })).toBe('{"a":{"b":[true]}}');
  });

  it("never throws, even for a cyclic structure", () => {
    const cyclic: { [key: string]: Value } = {};
    cyclic["self"] = cyclic;
    expect(stringify(cyclic)).toBe("null");
  });
});

describe("toNumber", () => {
  it("coerces like GitHub Actions", () => {
    expect(toNumber(null)).toBe(0);
    expect(toNumber(true)).toBe(1);
    expect(toNumber(false)).toBe(0);
    expect(toNumber("")).toBe(0);
    expect(toNumber("  ")).toBe(0);
    expect(toNumber(" 12 ")).toBe(12);
    expect(toNumber("-1.5e2")).toBe(-150);
    expect(toNumber(".5")).toBe(0.5);
    expect(toNumber("0x1F")).toBe(31);
    expect(toNumber("Infinity")).toBe(Number.POSITIVE_INFINITY);
    expect(toNumber("12abc")).toBeNaN();
    expect(toNumber("0b101")).toBeNaN();
    expect(toNumber([])).toBeNaN();
    expect(toNumber({})).toBeNaN();
  });
});

describe("looseEquals and compareValues", () => {
  it("handles NaN", () => {
    expect(looseEquals(Number.NaN, Number.NaN)).toBe(false);
    expect(looseEquals("x", Number.NaN)).toBe(false);
    expect(compareValues("<=", Number.NaN, 1)).toBe(false);
    expect(compareValues(">=", "x", 1)).toBe(false);
  });

  it("compares arrays and objects by identity", () => {
    const a: Value = [1];
    expect(looseEquals(a, a)).toBe(true);
    expect(looseEquals(a, [1])).toBe(false);
    expect(looseEquals(a, 1)).toBe(false);
  });
});

describe("getProperty", () => {
  it("reads own properties only and gives null otherwise", () => {
    expect(getProperty({ a: 1 }, "a")).toBe(1);
    expect(getProperty({ "1": "x" }, 1)).toBe("x");
    expect(getProperty({ a: 1 }, "toString")).toBe(null);
    expect(getProperty(["x", "y"], 1)).toBe("y");
    expect(getProperty(["x", "y"], "1")).toBe("y");
    expect(getProperty(["x"], "01x")).toBe(null);
    expect(getProperty("abc", 0)).toBe(null);
    expect(getProperty(null, "a")).toBe(null);
  });
});
