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

// The job pod's helper program: everything bundled in (it runs in the helper image with no
// node_modules beside it, on Node 20 or 24). Its CommonJS dependencies (picomatch) need `require`.
await build({
  entryPoints: { "gust-runner": "./src/runner/main.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: { js: 'import { createRequire as __gustCreateRequire } from "node:module"; const require = __gustCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
