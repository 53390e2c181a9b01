import { describe, expect, it } from "vitest";
import { closestMatch, editDistance } from "./suggest";

describe("editDistance", () => {
  it("counts insertions, deletions and substitutions", () => {
    expect(editDistance("", "")).toBe(0);
    expect(editDistance("abc", "abc")).toBe(0);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("branch", "brnch")).toBe(1);
    expect(editDistance("needs", "neds")).toBe(1);
    expect(editDistance("env", "envs")).toBe(1);
  });

  it("counts a swap of adjacent characters as one edit", () => {
    expect(editDistance("brnach", "branch")).toBe(1);
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("matirx", "matrix")).toBe(1);
  });

  it("is case-sensitive and symmetric", () => {
    expect(editDistance("startswith", "startsWith")).toBe(1);
    expect(editDistance("abcdef", "badcfe")).toBe(editDistance("badcfe", "abcdef"));
  });
});

describe("closestMatch", () => {
  const roots = ["event", "ref", "branch", "tag", "sha", "inputs", "env", "matrix", "needs"];

  it("suggests names within two edits", () => {
    expect(closestMatch("brnach", roots)).toBe("branch");
    expect(closestMatch("nedds", roots)).toBe("needs");
    expect(closestMatch("evnt", roots)).toBe("event");
    expect(closestMatch("matrx", roots)).toBe("matrix");
  });

  it("prefers a case-only difference", () => {
    expect(closestMatch("startswith", ["startsWith", "startsWitch"])).toBe("startsWith");
    expect(closestMatch("ENV", roots)).toBe("env");
  });

  it("suggests by prefix", () => {
    expect(closestMatch("inp", roots)).toBe("inputs");
    expect(closestMatch("mat", roots)).toBe("matrix");
  });

  it("suggests nothing when nothing is close", () => {
    expect(closestMatch("github", roots)).toBeUndefined();
    expect(closestMatch("x", roots)).toBeUndefined();
    expect(closestMatch("zz", roots)).toBeUndefined();
    expect(closestMatch("anything", [])).toBeUndefined();
  });

  it("never suggests the name itself", () => {
    expect(closestMatch("env", ["env"])).toBeUndefined();
  });
});
