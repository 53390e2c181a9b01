// The Kubernetes executor against the real single-node cluster test/cluster/ brings up: a fresh
// namespace per test file, a runner API on the host at the address pods reach it by, and the
// locally built shell and helper images. Tests that need it run when GUST_TEST_KUBECONFIG is set.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { serve as serveHttp } from "@hono/node-server";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { loadConfig } from "../../../src/config";
import type { JobRun } from "../../../src/executors/executor";
import { createKubeClient, type KubeClient } from "../../../src/executors/kubernetes/kube-client";
import type { KubernetesExecutor } from "../../../src/executors/kubernetes/kubernetes-executor";
import { createKubernetesExecutor } from "../../../src/main/kubernetes-wiring";
import { FileBlobStore, standaloneRunnerApi } from "../../../src/runner-api";
import type { ContractHarness } from "../../contract/executor-contract";
import { buildJob, type JobPartial } from "../../contract/job-defaults";
import { freePort } from "../../helpers/serve-process";

export const cluster = {
  kubeconfig: process.env.GUST_TEST_KUBECONFIG,
  hostIp: process.env.GUST_TEST_HOST_IP ?? "10.88.0.1",
  shellImage: process.env.GUST_TEST_SHELL_IMAGE ?? "gust-test/shell:1",
  helperImage: process.env.GUST_TEST_HELPER_IMAGE ?? "gust-test/helper:dev",
  /** busybox httpd on port 8080 answering "service is up" (its own CMD, like a database image). */
  serviceImage: process.env.GUST_TEST_SERVICE_IMAGE ?? "gust-test/service:1",
};

/** Says plainly, once per file, that the cluster tests did not run. */
export function noteSkippedWithoutCluster(what: string): void {
  if (!cluster.kubeconfig) console.warn(`skipped: ${what} needs a real cluster (set GUST_TEST_KUBECONFIG, e.g. by test/cluster/up.sh)`);
}

/** A fresh namespace, once pods may be created in it (its default service account exists). */
export async function createTestNamespace(core: CoreV1Api, prefix: string): Promise<string> {
  const namespace = `${prefix}-${randomBytes(4).toString("hex")}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { "gust.dev/test": "true" } } } });
  for (let i = 0; i < 300; i++) {
    const accounts = await core.listNamespacedServiceAccount({ namespace });
    if (accounts.items.some((account) => account.metadata?.name === "default")) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return namespace;
}

export interface ClusterHarness extends ContractHarness {
  executor: KubernetesExecutor;
  namespace: string;
  client: KubeClient;
  core: CoreV1Api;
  runnerUrl: string;
  tokenKey: Buffer;
  /** An empty directory, the default workspace source (sent to pods as an archive). */
  source: string;
  newExecutor(overrides?: Record<string, string>): KubernetesExecutor;
}

export async function createClusterHarness(options: { env?: Record<string, string> } = {}): Promise<ClusterHarness> {
  const kubeconfig = cluster.kubeconfig;
  if (!kubeconfig) throw new Error("GUST_TEST_KUBECONFIG is not set");
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const namespace = await createTestNamespace(core, "gust-test");

  const root = await mkdtemp(path.join(tmpdir(), "gust-k8s-test-"));
  const source = path.join(root, "source");
  await mkdir(source);
  const tokenKey = randomBytes(32);
  const port = await freePort();
  const api = standaloneRunnerApi({ tokenKey, blobs: new FileBlobStore(path.join(root, "data")), maxUploadBytes: 256 * 1024 * 1024 });
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve) => {
    const started = serveHttp({ fetch: api.fetch, port, hostname: "0.0.0.0" }, () => resolve(started));
  });
  const runnerUrl = `http://${cluster.hostIp}:${port}`;
  const client = createKubeClient(config);
  const executors: KubernetesExecutor[] = [];
  const newExecutor = (overrides: Record<string, string> = {}): KubernetesExecutor => {
    const settings = loadConfig({
      argv: [],
      env: {
        GUST_KUBECONFIG: kubeconfig,
        GUST_KUBERNETES_NAMESPACE: namespace,
        GUST_KUBERNETES_DEFAULT_IMAGE: cluster.shellImage,
        GUST_KUBERNETES_HELPER_IMAGE: cluster.helperImage,
        GUST_KUBERNETES_IMAGE_PULL_TIMEOUT_MS: "20000",
        GUST_KUBERNETES_UNSCHEDULABLE_TIMEOUT_MS: "15000",
        ...options.env,
        ...overrides,
      },
      readFile: () => {
        throw new Error("no config file");
      },
    });
    const executor = createKubernetesExecutor({
      settings,
      runnerUrl,
      tokenKey,
      client,
      janitorIntervalMs: 0,
      cancelGraceSeconds: 3,
      onError: (error, context) => {
        if (process.env.GUST_TEST_VERBOSE) console.warn(context, error);
      },
    });
    executors.push(executor);
    return executor;
  };
  const executor = newExecutor();
  return {
    executor,
    namespace,
    client,
    core,
    runnerUrl,
    tokenKey,
    source,
    newExecutor,
    makeJob: (partial: JobPartial): JobRun => buildJob({ timeoutMs: 180_000, ...partial }, { workspace: { kind: "directory", path: source } }),
    otherExecutor: async () => newExecutor(),
    teardown: async () => {
      for (const one of executors) await one.close();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(root, { recursive: true, force: true });
    },
  };
}
