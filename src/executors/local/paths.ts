// Path helpers that keep names from the job (run ids, job keys, relative paths) inside the
// directories they belong to.
import path from "node:path";
import { ExecutorError } from "../../errors";

/** A run id or job key as one directory name; refuses anything that could leave the parent. */
export function safeSegment(value: string, what: string): string {
  const segment = value.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  if (segment === "" || segment === "." || segment === "..") {
    throw new ExecutorError(`invalid ${what} ${JSON.stringify(value)}`, { retryable: false, code: "invalid_job" });
  }
  return segment;
}

/** `root` joined with `relative`, or undefined when the result would lie outside `root`. */
export function resolveInside(root: string, relative: string): string | undefined {
  const resolved = path.resolve(root, relative);
  const rel = path.relative(root, resolved);
  if (rel === "") return resolved;
  if (rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return resolved;
}
