// Prints every problem of every pipeline file, compiler style, and says how many there were.
import { formatDiagnostic } from "../../pipeline";
import type { LoadedPipeline } from "../pipeline-files";
import type { Palette } from "./colors";

/** Returns the number of problems printed. */
export function printDiagnostics(pipelines: LoadedPipeline[], colors: Palette, write: (text: string) => void): number {
  let count = 0;
  for (const { result } of pipelines) {
    if (result.ok) continue;
    for (const diagnostic of result.diagnostics) {
      write(`${formatDiagnostic(diagnostic, (line) => result.source.sourceLine(line), { error: colors.red, dim: colors.dim, bold: colors.bold })}\n\n`);
      count++;
    }
  }
  if (count > 0) write(colors.red(`${count} problem${count === 1 ? "" : "s"} found; nothing was run.\n`));
  return count;
}
