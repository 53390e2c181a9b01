// Bundles the CLI into dist/ with esbuild: one file, fast start, packages stay external.
// Type checking is `npm run typecheck`; this only transpiles.
import { build } from "esbuild";

await build({
  entryPoints: { gust: "./src/main/cli.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
