// A tiny lint: no tabs, no trailing whitespace, in src/ and test/.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let problems = 0;
for (const dir of ["src", "test"]) {
  for (const file of readdirSync(dir)) {
    readFileSync(join(dir, file), "utf8").split("\n").forEach((line, i) => {
      if (/\t|\s+$/.test(line)) {
        console.error(`${dir}/${file}:${i + 1}: tab or trailing whitespace`);
        problems++;
      }
    });
  }
}
console.log(problems === 0 ? "lint: clean" : `lint: ${problems} problems`);
process.exit(problems === 0 ? 0 : 1);
