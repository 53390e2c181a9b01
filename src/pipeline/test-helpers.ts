// Helpers shared by the pipeline module's tests: parse a file written as lines, find a diagnostic,
// and say where a piece of text sits in those lines (so expected columns come from the text itself).
import { expect } from "vitest";
import type { Diagnostic } from "./diagnostics";
import type { Pipeline } from "./model";
import { parsePipeline } from "./parse";

export function source(lines: string[]): string {
  return lines.join("\n") + "\n";
}

export function parseOk(lines: string[], file = ".gust.yml"): Pipeline {
  const result = parsePipeline(source(lines), file);
  if (!result.ok) throw new Error(`expected a valid pipeline, got:\n${result.diagnostics.map((d) => `${d.line}:${d.column} ${d.path}: ${d.message}`).join("\n")}`);
  return result.pipeline;
}

export function diagnosticsOf(lines: string[], file = ".gust.yml"): Diagnostic[] {
  const result = parsePipeline(source(lines), file);
  if (result.ok) throw new Error("expected diagnostics, the pipeline parsed");
  return result.diagnostics;
}

/** The single diagnostic at `path` (fails the test when there is none or several). */
export function diagnosticAt(lines: string[], path: string): Diagnostic {
  const all = diagnosticsOf(lines);
  const matching = all.filter((d) => d.path === path);
  expect(matching, `diagnostics at ${path} among ${JSON.stringify(all, null, 1)}`).toHaveLength(1);
  return matching[0]!;
}

/**
 * Line (1-based) and column of the `occurrence`-th `needle` on line `line` of `lines`; throws when the
 * needle is not there, so a typo in a test cannot pass silently.
 */
export function where(lines: string[], line: number, needle: string, occurrence = 1): { line: number; column: number } {
  const text = lines[line - 1];
  if (text === undefined) throw new Error(`no line ${line}`);
  let index = -1;
  for (let n = 0; n < occurrence; n++) {
    index = text.indexOf(needle, index + 1);
    if (index === -1) throw new Error(`'${needle}' (occurrence ${occurrence}) not on line ${line}: ${text}`);
  }
  return { line, column: index + 1 };
}

/** A minimal valid job, for files whose point is elsewhere. */
export const JOB = ["  build:", "    steps:", "      - run: make"];
