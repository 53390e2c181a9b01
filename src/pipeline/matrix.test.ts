// Matrix expansion: the product of the axes, then exclude, then include (GitHub Actions' rules).
import { describe, expect, it } from "vitest";
import { expandMatrix, matrixJobName } from "./matrix";
import type { MatrixDef } from "./model";

const matrix = (def: Partial<MatrixDef>): MatrixDef => ({ axes: {}, include: [], exclude: [], failFast: false, ...def });

function combinations(def: Partial<MatrixDef>) {
  const result = expandMatrix(matrix(def));
  if (!result.ok) throw new Error(result.error);
  return result.expansion;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("expandMatrix", () => {
  it("takes the product of the axes, first axis outermost", () => {
    const expansion = combinations({ axes: { node: [18, 20], os: ["linux", "mac"] } });
    expect(expansion.combinations).toEqual([
      { node: 18, os: "linux" },
      { node: 18, os: "mac" },
      { node: 20, os: "linux" },
      { node: 20, os: "mac" },
    ]);
    expect(expansion.nameKeys).toEqual(Array(4).fill(["node", "os"]));
  });

  it("drops combinations matching an exclude entry (partial entries match several)", () => {
    const expansion = combinations({ axes: { node: [18, 20], os: ["linux", "mac", "win"] }, exclude: [{ os: "win" }, { node: 18, os: "mac" }] });
    expect(expansion.combinations).toEqual([
      { node: 18, os: "linux" },
      { node: 20, os: "linux" },
      { node: 20, os: "mac" },
    ]);
  });

  it("does not exclude on a value of a different type", () => {
    expect(combinations({ axes: { node: [18, 20] }, exclude: [{ node: "18" }] }).combinations).toHaveLength(2);
  });

  it("extends every matching combination with an include that changes no axis value", () => {
    const expansion = combinations({ axes: { node: [18, 20], os: ["linux", "mac"] }, include: [{ node: 20, experimental: true }] });
    expect(expansion.combinations).toEqual([
      { node: 18, os: "linux" },
      { node: 18, os: "mac" },
      { node: 20, os: "linux", experimental: true },
      { node: 20, os: "mac", experimental: true },
    ]);
    expect(expansion.nameKeys[2]).toEqual(["node", "os"]);
  });

  it("extends all combinations with an include of new keys only", () => {
    const expansion = combinations({ axes: { node: [18, 20] }, include: [{ registry: "npm" }] });
    expect(expansion.combinations).toEqual([
      { node: 18, registry: "npm" },
      { node: 20, registry: "npm" },
    ]);
  });

  it("adds an include that would change an axis value as a new combination, named by its own keys", () => {
    const expansion = combinations({ axes: { node: [18, 20], os: ["linux"] }, include: [{ node: 22, os: "linux" }, { os: "win" }] });
    expect(expansion.combinations).toEqual([
      { node: 18, os: "linux" },
      { node: 20, os: "linux" },
      { node: 22, os: "linux" },
      { os: "win" },
    ]);
    expect(expansion.nameKeys.slice(2)).toEqual([["node", "os"], ["os"]]);
  });

  it("lets a later include overwrite what an earlier include added, but never an axis value", () => {
    const expansion = combinations({ axes: { node: [20] }, include: [{ label: "a" }, { label: "b" }, { node: 20, label: "c" }] });
    expect(expansion.combinations).toEqual([{ node: 20, label: "c" }]);
  });

  it("does not re-add an excluded combination through extension, but include can add it back explicitly", () => {
    const expansion = combinations({ axes: { node: [18, 20] }, exclude: [{ node: 18 }], include: [{ node: 18 }] });
    expect(expansion.combinations).toEqual([{ node: 20 }, { node: 18 }]);
  });

  it("builds the matrix from include alone", () => {
    const expansion = combinations({ include: [{ target: "x86" }, { target: "arm", cc: "clang" }] });
    expect(expansion.combinations).toEqual([{ target: "x86" }, { target: "arm", cc: "clang" }]);
    expect(expansion.nameKeys).toEqual([["target"], ["target", "cc"]]);
  });

  it("allows exactly 256 combinations", () => {
    expect(combinations({ axes: { a: range(16), b: range(16) } }).combinations).toHaveLength(256);
  });

  it("refuses 257 combinations", () => {
    const result = expandMatrix(matrix({ axes: { a: range(16), b: range(16) }, include: [{ a: 100 }] }));
    expect(result).toEqual({ ok: false, error: "the matrix expands to 257 jobs; at most 256 are allowed" });
  });

  it("names the real size of a huge matrix without building it", () => {
    const result = expandMatrix(matrix({ axes: { a: range(10), b: range(10), c: range(10), d: range(10), e: range(10) } }));
    expect(result).toEqual({ ok: false, error: "the matrix expands to 100000 jobs; at most 256 are allowed" });
  });

  it("never returns combinations missing an axis", () => {
    // 1100 × 2 is over the limit; the old expansion stopped after the first axis and let exclude
    // bring the half-built product under the limit.
    const exclude = range(1000).map((a) => ({ a }));
    const result = expandMatrix(matrix({ axes: { a: range(1100), b: ["x", "y"] }, exclude }));
    expect(result.ok).toBe(false);
  });

  it("applies exclude before the limit", () => {
    const expansion = combinations({ axes: { a: range(20), b: range(20) }, exclude: range(10).map((a) => ({ a })) });
    expect(expansion.combinations).toHaveLength(200);
  });

  it("reports a matrix whose every combination is excluded", () => {
    expect(expandMatrix(matrix({ axes: { node: [20] }, exclude: [{ node: 20 }] }))).toEqual({ ok: false, error: "the matrix expands to no jobs (every combination is excluded)" });
  });

  it("reports a matrix with no axes and no include", () => {
    expect(expandMatrix(matrix({ maxParallel: 2 }))).toEqual({ ok: false, error: "the matrix has no axes (name: [values]) and no include" });
  });

  it("does not change the definition it expands", () => {
    const def = matrix({ axes: { node: [20] }, include: [{ node: 20, x: 1 }] });
    const copy = structuredClone(def);
    expandMatrix(def);
    expandMatrix(def);
    expect(def).toEqual(copy);
  });
});

describe("matrixJobName", () => {
  it("lists the name keys in order", () => {
    expect(matrixJobName("test", { node: 20, os: "linux" }, ["node", "os"])).toBe("test (node: 20, os: linux)");
  });

  it("shows only the name keys, not values an include added", () => {
    expect(matrixJobName("test", { node: 20, experimental: true }, ["node"])).toBe("test (node: 20)");
  });

  it("skips keys the combination lacks and falls back to the id", () => {
    expect(matrixJobName("test", { os: "win" }, ["node", "os"])).toBe("test (os: win)");
    expect(matrixJobName("test", {}, ["node"])).toBe("test");
  });

  it("prints booleans and numbers as written", () => {
    expect(matrixJobName("t", { lts: false, v: 1.5 }, ["lts", "v"])).toBe("t (lts: false, v: 1.5)");
  });
});
