// `npm run bench`: every benchmark in this folder, one after another.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
let failed = false;
for (const file of readdirSync(dir).filter((name) => name.endsWith(".bench.mjs")).sort()) {
  console.log(`\n=== ${file}`);
  const result = spawnSync(process.execPath, [`${dir}${file}`], { stdio: "inherit" });
  failed ||= result.status !== 0;
}
process.exit(failed ? 1 : 0);
