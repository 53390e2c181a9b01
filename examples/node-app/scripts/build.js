// Packs the function into dist/: the code plus a manifest with the commit it was built from.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";

mkdirSync("dist", { recursive: true });
cpSync("src", "dist/src", { recursive: true });
cpSync("package.json", "dist/package.json");
writeFileSync("dist/manifest.json", JSON.stringify({ commit: process.env.GUST_COMMIT, builtAt: new Date().toISOString() }, null, 2));
console.log("built dist/");
