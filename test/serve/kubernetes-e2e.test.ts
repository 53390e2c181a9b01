// `gust serve --executor kubernetes` end to end on the real cluster: a signed GitHub push webhook →
// the pipeline's jobs run as pods that clone the commit over HTTP with the repository's token →
// their lines stream into the log (read live over SSE while the job runs) → the artifact of `build`
// reaches `test` in another pod → GitHub gets completed check runs.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/main/serve";
import { cluster, createTestNamespace, noteSkippedWithoutCluster } from "../executors/kubernetes/cluster-harness";
import { startGitHttpServer, type GitHttpServer } from "../helpers/git-http-server";
import { git, tempRepo } from "../helpers/gust-cli";
import { deliverGithub, githubPushPayload } from "../helpers/github-payloads";
import { registerGithubRepository, serveConfig } from "../helpers/serve-fixture";
import { freePort } from "../helpers/serve-process";
import { GithubApiStandIn, type CheckRun } from "../stand-ins/github-api";

const WEBHOOK_SECRET = "whsec-kubernetes-e2e";
const TOKEN = "ghp_kubernetese2etoken0000000000000000000";

const PIPELINE = `on: {push: {branches: [main]}}
jobs:
  build:
    artifacts: {paths: [dist/**]}
    steps:
      - name: compile
        run: |
          mkdir -p dist
          cat app.txt > dist/app.out
          echo "compiled $(cat app.txt)"
      - name: slow
        run: |
          i=0
          while [ $i -lt 20 ]; do echo "tick-$i"; i=$((i+1)); sleep 0.1; done
  test:
    needs: build
    steps:
      - name: use the artifact
        run: echo "tested $(cat dist/app.out)"
`;

noteSkippedWithoutCluster("gust serve on the Kubernetes executor, end to end");

describe.skipIf(!cluster.kubeconfig)("gust serve --executor kubernetes, end to end on the real cluster", () => {
  let dataDir: string;
  let standIn: GithubApiStandIn;
  let gitServer: GitHttpServer;
  let server: RunningServer | undefined;
  let repoRoot: string;
  let sha: string;
  let core: CoreV1Api;
  let namespace = "";

  beforeAll(async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfig!);
    core = kubeConfig.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(core, "gust-e2e");

    dataDir = await mkdtemp(join(tmpdir(), "gust-k8s-e2e-"));
    repoRoot = await mkdtemp(join(tmpdir(), "gust-k8s-e2e-repos-"));
    const files = { ".gust.yml": PIPELINE, "app.txt": "version-7\n" };
    const repoDir = tempRepo(files, { git: true });
    await rm(join(repoRoot, "app"), { recursive: true, force: true });
    git(repoRoot, ["clone", "-q", "--bare", repoDir, "app.git"]);
    await rm(repoDir, { recursive: true, force: true });
    sha = git(join(repoRoot, "app.git"), ["rev-parse", "HEAD"]);
    // Pods clone from the host over HTTP, with the repository's token as GitHub wants it.
    gitServer = await startGitHttpServer({ root: repoRoot, host: "0.0.0.0", auth: { username: "x-access-token", password: TOKEN } });
    const cloneUrl = `http://${cluster.hostIp}:${new URL(gitServer.url).port}/app.git`;

    standIn = await GithubApiStandIn.start();
    standIn.addRepository("acme/app").commit(files, undefined, sha);
    standIn.addToken(TOKEN, { contents: "read", checks: "write", statuses: "write" });
    await registerGithubRepository({ dataDir, fullName: "acme/app", apiUrl: standIn.baseUrl, cloneUrl, token: TOKEN });

    const port = await freePort();
    const config = serveConfig(dataDir, {
      argv: ["--host", "0.0.0.0", "--port", String(port), "--public-url", `http://127.0.0.1:${port}`],
      env: {
        GUST_GITHUB_WEBHOOK_SECRETS: WEBHOOK_SECRET,
        GUST_EXECUTOR: "kubernetes",
        GUST_KUBECONFIG: cluster.kubeconfig!,
        GUST_KUBERNETES_NAMESPACE: namespace,
        GUST_KUBERNETES_DEFAULT_IMAGE: cluster.shellImage,
        GUST_KUBERNETES_HELPER_IMAGE: cluster.helperImage,
        GUST_RUNNER_URL: `http://${cluster.hostIp}:${port}`,
      },
    });
    server = await startServer(config, pino({ level: "silent" }));
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await standIn?.close();
    await gitServer?.close();
    if (namespace) await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await rm(repoRoot, { recursive: true, force: true });
  });

  const check = (name: string): CheckRun | undefined => standIn.checkRuns("acme/app", sha).find((run) => run.name === name);

  it("runs the pushed commit's jobs as pods, with live logs, artifacts between jobs and check runs on GitHub", async () => {
    const body = githubPushPayload({ fullName: "acme/app", sha, cloneUrl: "https://github.com/acme/app.git" });
    const response = await deliverGithub(server!.url, { body, event: "push", delivery: "k8s-e2e-1", secret: WEBHOOK_SECRET });
    expect(response.status).toBe(202);

    const token = (await readFile(join(dataDir, "cli-token"), "utf8")).trim();
    const api = async <T>(path: string): Promise<T> => {
      const answer = await fetch(`${server!.url}/api${path}`, { headers: { Authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(200);
      return (await answer.json()) as T;
    };

    // Follow build's log live over SSE while its pod runs.
    let buildJobId: number | undefined;
    for (let i = 0; i < 600 && buildJobId === undefined; i++) {
      const pipelines = await api<{ pipelines: Array<{ id: number }> }>("/pipelines");
      const first = pipelines.pipelines[0];
      if (first) {
        const detail = await api<{ jobs: Array<{ id: number; key: string }> }>(`/pipelines/${first.id}`);
        buildJobId = detail.jobs.find((job) => job.key === "build")?.id;
      }
      if (buildJobId === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(buildJobId).toBeDefined();
    const live = await fetch(`${server!.url}/api/jobs/${buildJobId}/logs/stream`, { headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" } });
    expect(live.status).toBe(200);
    let streamed = "";
    const decoder = new TextDecoder();
    for await (const piece of live.body as unknown as AsyncIterable<Uint8Array>) {
      streamed += decoder.decode(piece, { stream: true });
      if (streamed.includes("event: end")) break;
    }
    expect(streamed).toContain("compiled version-7");
    expect(streamed).toContain("tick-19");

    const done = () => check("app")?.status === "completed";
    for (let i = 0; i < 1800 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(check("app / build")).toMatchObject({ status: "completed", conclusion: "success" });
    expect(check("app / test")).toMatchObject({ status: "completed", conclusion: "success" });
    expect(check("app")).toMatchObject({ status: "completed", conclusion: "success" });

    const testJobId = (await api<{ jobs: Array<{ id: number; key: string }> }>(`/pipelines/${(await api<{ pipelines: Array<{ id: number }> }>("/pipelines")).pipelines[0]!.id}`)).jobs.find((job) => job.key === "test")!.id;
    const testLog = await api<{ lines: Array<{ text: string }> }>(`/jobs/${testJobId}/logs`);
    expect(testLog.lines.map((line) => line.text)).toContain("tested version-7");
    // The pods cloned with the token, and are gone once their jobs ended.
    expect(gitServer.requests.some((request) => request.authorized)).toBe(true);
    expect(gitServer.requests.every((request) => request.authorized)).toBe(true);
    const left = await core.listNamespacedPod({ namespace });
    expect(left.items.filter((pod) => !pod.metadata?.deletionTimestamp)).toEqual([]);
  }, 300_000);
});
