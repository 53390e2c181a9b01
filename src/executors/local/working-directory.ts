// A step's `workingDirectory`: relative to the workspace and never outside it.
import { stat } from "node:fs/promises";
import { resolveInside } from "./paths";

export type WorkingDirectory = { ok: true; path: string } | { ok: false; problem: string };

export async function resolveWorkingDirectory(workspace: string, workingDirectory: string): Promise<WorkingDirectory> {
  const resolved = resolveInside(workspace, workingDirectory);
  if (resolved === undefined) {
    return { ok: false, problem: `working directory ${JSON.stringify(workingDirectory)} is outside the workspace` };
  }
  const isDirectory = await stat(resolved).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    return { ok: false, problem: `working directory ${JSON.stringify(workingDirectory)} does not exist in the workspace` };
  }
  return { ok: true, path: resolved };
}
