// `gust run --executor kubernetes`: the working tree's pipeline runs as pods in the real cluster,
// the pods reaching this process's runner API for the source and the artifacts between jobs.
import { rm } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { cluster, noteSkippedWithoutCluster } from "../executors/kubernetes/cluster-harness";
import { freePort } from "../helpers/serve-process";
import { gust, tempRepo } from "../helpers/gust-cli";

const PIPELINE = `jobs:
  build:
    artifacts: {paths: [out/**]}
    steps:
      - run: mkdir -p out && cat input.txt > out/a.txt && echo built
  test:
    needs: build
    steps:
      - run: |
          echo "got $(cat out/a.txt)"
          echo "to stderr" >&2
          exit 4
`;

noteSkippedWithoutCluster("gust run --executor kubernetes");

describe.skipIf(!cluster.kubeconfig)("gust run --executor kubernetes", () => {
  const repo = tempRepo({ ".gust.yml": PIPELINE, "input.txt": "from the working tree\n" });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it("runs the jobs as pods with the working tree, artifacts between them, and the exit status of the pipeline", async () => {
    const port = await freePort();
    const result = await gust(
      ["run", ".", "--json", "--executor", "kubernetes", "--kubeconfig", cluster.kubeconfig!, "--runner-url", `http://${cluster.hostIp}:${port}`, "--default-image", cluster.shellImage, "--helper-image", cluster.helperImage],
      { cwd: repo, env: { NO_COLOR: "1" } },
    );
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { type: string; text?: string; stream?: string; job?: string; status?: string });
    const texts = lines.filter((line) => line.type === "log").map((line) => `${line.stream}:${line.text}`);
    expect(texts).toContain("stdout:built");
    expect(texts).toContain("stdout:got from the working tree");
    expect(texts).toContain("stderr:to stderr");
  }, 240_000);
});
