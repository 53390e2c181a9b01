// Matrix expansion with GitHub Actions' rules for include and exclude.
import { MAX_MATRIX_COMBINATIONS, type MatrixDef, type Scalar } from "./model";

export type Combination = Record<string, Scalar>;

export interface Expansion {
  combinations: Combination[];
  /** Keys shown in the job name of each combination. */
  nameKeys: string[][];
}

export function expandMatrix(matrix: MatrixDef): { ok: true; expansion: Expansion } | { ok: false; error: string } {
  const axes = Object.entries(matrix.axes);
  // Sized before it is built: a huge product is refused outright (excludes could not bring it under
  // the limit in practice), and stopping half-way would leave combinations without some axes.
  const size = axes.length === 0 ? 0 : axes.reduce((total, [, values]) => total * values.length, 1);
  if (size > MAX_MATRIX_COMBINATIONS * 4) return { ok: false, error: tooMany(size) };
  let product: Combination[] = axes.length === 0 ? [] : [{}];
  for (const [axis, values] of axes) {
    product = product.flatMap((combination) => values.map((value) => ({ ...combination, [axis]: value })));
  }
  const kept = product.filter((combination) => !matrix.exclude.some((entry) => matches(combination, entry)));
  const combinations = kept.map((combination) => ({ ...combination }));
  const nameKeys = combinations.map(() => axes.map(([axis]) => axis));
  const original = kept;
  for (const entry of matrix.include) {
    let added = false;
    original.forEach((combination, index) => {
      // An include entry extends a combination when it changes none of the combination's axis values.
      const conflicts = Object.entries(entry).some(([key, value]) => key in combination && combination[key] !== value);
      if (conflicts) return;
      Object.assign(combinations[index]!, entry);
      added = true;
    });
    if (!added) {
      combinations.push({ ...entry });
      nameKeys.push(Object.keys(entry));
    }
  }
  if (combinations.length > MAX_MATRIX_COMBINATIONS) return { ok: false, error: tooMany(combinations.length) };
  if (combinations.length === 0) {
    // `matrix: {max-parallel: 2}` has nothing to exclude: say what is actually missing.
    return { ok: false, error: axes.length === 0 ? "the matrix has no axes (name: [values]) and no include" : "the matrix expands to no jobs (every combination is excluded)" };
  }
  return { ok: true, expansion: { combinations, nameKeys } };
}

function tooMany(count: number): string {
  return `the matrix expands to ${count} jobs; at most ${MAX_MATRIX_COMBINATIONS} are allowed`;
}

function matches(combination: Combination, entry: Combination): boolean {
  return Object.entries(entry).every(([key, value]) => combination[key] === value);
}

/** `test (node: 20, os: linux)` */
export function matrixJobName(base: string, combination: Combination, keys: string[]): string {
  const shown = keys.filter((key) => key in combination).map((key) => `${key}: ${String(combination[key])}`);
  return shown.length === 0 ? base : `${base} (${shown.join(", ")})`;
}
