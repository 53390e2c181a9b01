// Finds workspace files by glob (artifacts, cache paths, hashFiles). A pattern naming a directory
// (`dist`, `dist/`) means everything under it; `!pattern` excludes. Patterns leaving the workspace
// (`../x`, absolute paths) match nothing.
import { lstat } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { walkFiles } from "./walk-files";

interface Compiled {
  include: (relative: string) => boolean;
  exclude: (relative: string) => boolean;
  /** Directories (or files) to start walking from; "" is the whole root. */
  bases: string[];
}

const NEVER = (): boolean => false;

export function compileGlobs(patterns: readonly string[]): Compiled {
  const includes: string[] = [];
  const excludes: string[] = [];
  const bases: string[] = [];
  for (const raw of patterns) {
    const negated = raw.startsWith("!");
    const pattern = normalize(negated ? raw.slice(1) : raw);
    if (pattern === undefined) continue;
    const expanded = [pattern, `${pattern}/**`];
    if (negated) {
      excludes.push(...expanded);
      continue;
    }
    const base = path.posix.normalize(picomatch.scan(pattern).base || ".");
    if (base === ".." || base.startsWith("../")) continue;
    includes.push(...expanded);
    bases.push(base === "." ? "" : base);
  }
  const options = { dot: true };
  return {
    include: includes.length > 0 ? picomatch(includes, options) : NEVER,
    exclude: excludes.length > 0 ? picomatch(excludes, options) : NEVER,
    bases: outermost(bases),
  };
}

/** Matching files and symlinks under `root`, relative with `/`, sorted. */
export async function findFiles(root: string, patterns: readonly string[], signal?: AbortSignal): Promise<string[]> {
  const globs = compileGlobs(patterns);
  const found = new Set<string>();
  for (const base of globs.bases) {
    const absolute = base === "" ? root : path.join(root, base);
    const stats = await lstat(absolute).catch(() => undefined);
    if (!stats) continue;
    if (!stats.isDirectory()) {
      if (stats.isFile() || stats.isSymbolicLink()) found.add(base);
      continue;
    }
    const inner = await walkFiles(absolute, {
      // .git holds git's internals, never build output; name it explicitly to include it.
      skipDirectory: (relative) => base === "" && relative === ".git",
      ...(signal ? { signal } : {}),
    });
    for (const relative of inner) found.add(base === "" ? relative : `${base}/${relative}`);
  }
  return [...found].filter((relative) => globs.include(relative) && !globs.exclude(relative)).sort();
}

function normalize(pattern: string): string | undefined {
  let result = pattern.trim();
  while (result.startsWith("./")) result = result.slice(2);
  result = result.replace(/\/+$/, "");
  if (result === ".") return "**";
  if (result === "" || path.posix.isAbsolute(result)) return undefined;
  return result;
}

/** Drops bases inside another base, so no directory is walked twice. */
function outermost(bases: string[]): string[] {
  const sorted = [...new Set(bases)].sort();
  const result: string[] = [];
  for (const base of sorted) {
    if (result.some((outer) => outer === "" || base.startsWith(`${outer}/`))) continue;
    result.push(base);
  }
  return result;
}
