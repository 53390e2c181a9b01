// Bundles a small entry written against the app's TypeScript sources into one ESM file that node
// runs as is. Packages stay external and resolve from node_modules, so the output lives under
// node_modules/.cache (a directory per call, removed by `remove()`).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export const root = fileURLToPath(new URL("../..", import.meta.url));

/** `entries` maps output names to entry source text (imports relative to the repository root). */
export async function bundleEntries(name, entries) {
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, `gust-bench-${name}-`));
  const files = {};
  try {
    for (const [entry, contents] of Object.entries(entries)) {
      files[entry] = join(dir, `${entry}.mjs`);
      await build({
        stdin: { contents, resolveDir: root, loader: "ts", sourcefile: `${entry}.ts` },
        outfile: files[entry],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        packages: "external",
        logLevel: "warning",
      });
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
