import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "./suggest";

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "", 3],
    ["kitten", "sitting", 3],
    ["needs", "neds", 1],
    ["steps", "stpes", 1], // adjacent transposition counts once
    ["timeout", "timout", 1],
    ["abc", "abc", 0],
  ])("%s ↔ %s = %d", (a, b, expected) => {
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe("closest and didYouMean", () => {
  it("finds the nearest candidate, ignoring case", () => {
    expect(closest("Steps", ["needs", "steps", "image"])).toBe("steps");
    expect(closest("brnch", ["branch", "tag"])).toBe("branch");
  });

  it("refuses candidates too far to be a typo", () => {
    expect(closest("runs-on", ["name", "image", "needs"])).toBeUndefined();
    expect(closest("x", [])).toBeUndefined();
  });

  it("allows more edits for longer words (up to 3)", () => {
    expect(closest("branchesignore", ["branches-ignore"])).toBe("branches-ignore");
    expect(closest("cancel-in-progres", ["cancel-in-progress"])).toBe("cancel-in-progress");
    expect(closest("abcdefghijkl", ["abcdefghwxyz"])).toBeUndefined();
  });

  it("prefers the first of equally close candidates", () => {
    expect(closest("tast", ["test", "task"])).toBe("test");
  });

  it("phrases the suggestion", () => {
    expect(didYouMean("neds", ["needs"])).toBe("did you mean 'needs'?");
    expect(didYouMean("zzzzzz", ["needs"])).toBeUndefined();
  });
});
