import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const sources = readdirSync(here).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

describe("source safety", () => {
  it("has source files to inspect", () => {
    expect(sources).toContain("evaluate.ts");
    expect(sources).toContain("index.ts");
  });

  it.each(sources)("%s never evaluates code", (file) => {
    const text = readFileSync(join(here, file), "utf8");
    expect(text).not.toMatch(/\beval\s*\(/);
    expect(text).not.toMatch(/new\s+Function\b/);
    expect(text).not.toMatch(/\bFunction\s*\(/);
    expect(text).not.toMatch(/\bvm\b.*\brun/);
  });

  it.each(sources)("%s imports nothing outside this folder but node builtins", (file) => {
    const text = readFileSync(join(here, file), "utf8");
    for (const match of text.matchAll(/from\s+"([^"]+)"/g)) {
      const specifier = match[1] ?? "";
      expect(specifier.startsWith("./") || specifier.startsWith("node:"), `${file} imports ${specifier}`).toBe(true);
    }
  });
});
