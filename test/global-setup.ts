// End-to-end tests run the real `bin/gust`, which loads dist/: build it once per test run so the
// tests never exercise a stale bundle.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
