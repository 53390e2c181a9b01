// deploy/Dockerfile cannot be built here (no docker): check what can be checked without building.
// Every stage on node:24-slim, the entrypoint and command are files and commands of this
// repository, each COPY source exists and survives .dockerignore, the runtime stage has what
// bin/gust needs, and its user is the one the Kubernetes manifests run as.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { HELP } from "../../src/cli/main";
import { execForm, parseCopy, parseDockerfile } from "./dockerfile";
import { loadManifests } from "./manifest-validation";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, "deploy/Dockerfile"), "utf8");
const BASE_IMAGE = "node:24-slim";

function ignoredBy(patterns: string[]): (path: string) => boolean {
  const matchers = patterns.map((pattern) => picomatch(pattern.replace(/^\/+|\/+$/g, ""), { dot: true }));
  return (path) => {
    const parts = path.replace(/^\.?\/+|\/+$/g, "").split("/");
    // A path is left out when it or any folder above it matches.
    return parts.some((_, index) => matchers.some((matches) => matches(parts.slice(0, index + 1).join("/"))));
  };
}

const dockerignore = () =>
  readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

/** Everything wrong with a Dockerfile for Gust's image; empty when nothing is. */
function problemsOf(source: string): string[] {
  const problems: string[] = [];
  const stages = parseDockerfile(source);
  const runtime = stages.at(-1);
  if (!runtime) return ["no FROM"];
  for (const stage of stages) if (stage.image !== BASE_IMAGE) problems.push(`FROM ${stage.image}: expected ${BASE_IMAGE}`);

  const last = (keyword: string) => runtime.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
  const entrypoint = execForm(last("ENTRYPOINT")?.text ?? "");
  if (JSON.stringify(entrypoint) !== JSON.stringify(["node", "bin/gust"])) problems.push(`ENTRYPOINT ${last("ENTRYPOINT")?.text}: expected ["node", "bin/gust"]`);
  for (const file of (entrypoint ?? []).slice(1)) if (!existsSync(join(ROOT, file))) problems.push(`ENTRYPOINT: ${file} is not in the repository`);
  const command = execForm(last("CMD")?.text ?? "");
  if (!command?.[0] || !new RegExp(`^ {2}${command[0]} `, "m").test(HELP)) problems.push(`CMD ${last("CMD")?.text}: not a gust command`);

  const isIgnored = ignoredBy(dockerignore());
  const copied: string[] = [];
  stages.forEach((stage, index) => {
    const earlier = new Set(stages.slice(0, index).map((each) => each.name));
    for (const instruction of stage.instructions.filter((each) => each.keyword === "COPY")) {
      const copy = parseCopy(instruction.text);
      if (stage === runtime) copied.push(...copy.sources.map((source) => source.replace(/\/+$/, "").split("/").at(-1)!));
      if (copy.from !== undefined) {
        if (!earlier.has(copy.from)) problems.push(`line ${instruction.line}: --from=${copy.from} is not an earlier stage`);
        continue;
      }
      for (const source of copy.sources) {
        if (!existsSync(join(ROOT, source))) problems.push(`line ${instruction.line}: ${source} is not in the repository`);
        else if (isIgnored(source)) problems.push(`line ${instruction.line}: ${source} is left out of the build context by .dockerignore`);
      }
    }
  });
  // bin/gust imports dist/gust.js (ESM: package.json's "type": "module"), which imports packages
  // and finds migrations/ beside dist/.
  for (const needed of ["package.json", "bin", "dist", "node_modules", "migrations"]) {
    if (!copied.includes(needed)) problems.push(`the runtime stage does not copy ${needed}`);
  }

  const user = last("USER")?.text.split(":")[0];
  if (user === undefined || !/^\d+$/.test(user) || Number(user) === 0) problems.push(`USER ${user}: expected a numeric non-root id (runAsNonRoot can only check a number)`);
  const runs = runtime.instructions.filter((each) => each.keyword === "RUN").map((each) => each.text);
  if (!runs.some((text) => /apt-get install\b.*\bgit\b/.test(text))) problems.push("the runtime stage does not install git");
  return problems;
}

describe("deploy/Dockerfile", () => {
  it("has nothing wrong that can be seen without building it", () => {
    expect(problemsOf(DOCKERFILE)).toEqual([]);
  });

  it("bin/gust is the package's command", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string>; type: string };
    expect(pkg.bin.gust).toBe("bin/gust");
    expect(pkg.type).toBe("module");
  });

  it("builds with the dev dependencies and installs only the production ones into the image", () => {
    const stages = parseDockerfile(DOCKERFILE);
    const runs = stages.map((stage) => stage.instructions.filter((each) => each.keyword === "RUN").map((each) => each.text).join("\n"));
    expect(runs.some((text) => text.includes("npm run build"))).toBe(true);
    const sources = stages.at(-1)!.instructions.filter((each) => each.keyword === "COPY").map((each) => parseCopy(each.text));
    const modules = sources.find((copy) => copy.sources.some((source) => source.includes("node_modules")))!;
    const from = stages.find((stage) => stage.name === modules.from)!;
    expect(from.instructions.some((each) => each.keyword === "RUN" && /npm ci\b.*--omit=dev/.test(each.text))).toBe(true);
  });

  it("runs as the user the Kubernetes manifests require", () => {
    const user = Number(parseDockerfile(DOCKERFILE).at(-1)!.instructions.filter((each) => each.keyword === "USER").at(-1)!.text.split(":")[0]);
    const pods = loadManifests(join(ROOT, "deploy/kubernetes"), { skip: ["kustomization.yaml"] })
      .map((manifest) => manifest.object as { kind: string; spec?: { template?: { spec: { securityContext?: { runAsUser?: number } } } } })
      .filter((object) => object.spec?.template);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods) expect(pod.spec!.template!.spec.securityContext?.runAsUser, pod.kind).toBe(user);
  });

  it("the checks can fail", () => {
    const broken = DOCKERFILE.replace("FROM node:24-slim AS deps", "FROM node:20 AS deps")
      .replace('ENTRYPOINT ["node", "bin/gust"]', 'ENTRYPOINT ["node", "bin/gust.js"]')
      .replace('CMD ["serve"]', 'CMD ["server"]')
      .replace("COPY migrations/ migrations/", "COPY migration/ migrations/")
      .replace("USER 10001:10001", "USER gust");
    expect(problemsOf(broken)).toEqual([
      "FROM node:20: expected node:24-slim",
      'ENTRYPOINT ["node", "bin/gust.js"]: expected ["node", "bin/gust"]',
      "ENTRYPOINT: bin/gust.js is not in the repository",
      'CMD ["server"]: not a gust command',
      expect.stringMatching(/migration\/ is not in the repository$/),
      "the runtime stage does not copy migrations",
      "USER gust: expected a numeric non-root id (runAsNonRoot can only check a number)",
    ]);
    expect(() => parseDockerfile("RUN true\n")).toThrow(/before FROM/);
  });

  it(".dockerignore leaves out node_modules and .git but keeps what the images copy", () => {
    const isIgnored = ignoredBy(dockerignore());
    for (const path of ["node_modules", "node_modules/pg/package.json", ".git/HEAD", ".gust/master.key"]) expect(isIgnored(path), path).toBe(true);
    // The helper image shares the build context (the repository root) and copies dist/gust-runner.mjs.
    const helper = join(ROOT, "runner-images/helper/Dockerfile");
    const sources = [DOCKERFILE, ...(existsSync(helper) ? [readFileSync(helper, "utf8")] : [])].flatMap((source) =>
      parseDockerfile(source)
        .flatMap((stage) => stage.instructions.filter((each) => each.keyword === "COPY").map((each) => parseCopy(each.text)))
        .filter((copy) => copy.from === undefined)
        .flatMap((copy) => copy.sources),
    );
    expect(sources).toEqual(expect.arrayContaining(["src/", "migrations/"]));
    for (const path of sources) expect(isIgnored(path), path).toBe(false);
  });
});
