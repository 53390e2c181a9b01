// Smoke test of the real test cluster (test/cluster/up.sh): a pod on the local shell image runs,
// its log can be read, its termination message reaches the pod status, and it reaches a server on
// the host at GUST_TEST_HOST_IP. Runs only when GUST_TEST_KUBECONFIG is set (source the env file
// that up.sh writes); otherwise it is skipped with a note.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const kubeconfigPath = process.env.GUST_TEST_KUBECONFIG || undefined;
const shellImage = process.env.GUST_TEST_SHELL_IMAGE || "gust-test/shell:1";
const hostIp = process.env.GUST_TEST_HOST_IP || "10.88.0.1";
const namespace = "default";

if (!kubeconfigPath) {
  console.log("test/cluster/smoke.test.ts skipped: GUST_TEST_KUBECONFIG is not set (run test/cluster/up.sh and source /var/tmp/gust-cluster/env)");
}

describe.skipIf(!kubeconfigPath)("test cluster", () => {
  let core: CoreV1Api;
  const created: string[] = [];

  beforeAll(() => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath ?? "");
    core = config.makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    for (const name of created) {
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    }
  });

  /** Runs `script` in a one-container pod and waits until the pod has finished. */
  async function runPod(script: string): Promise<V1Pod> {
    const name = `gust-smoke-${randomBytes(4).toString("hex")}`;
    created.push(name);
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { "app.kubernetes.io/part-of": "gust-smoke" } },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          containers: [{ name: "main", image: shellImage, imagePullPolicy: "Never", command: ["/bin/sh", "-c", script] }],
        },
      },
    });
    const deadline = Date.now() + 100_000;
    for (;;) {
      const pod = await core.readNamespacedPod({ name, namespace });
      if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return pod;
      if (Date.now() > deadline) throw new Error(`pod ${name} did not finish: ${JSON.stringify(pod.status)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it("runs a pod, reads its log and its termination message", { timeout: 120_000 }, async () => {
    const pod = await runPod("echo hi; echo 'status=success exit=0' > /dev/termination-log");
    expect(pod.status?.phase).toBe("Succeeded");
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).toBe(0);
    expect(terminated?.message).toBe("status=success exit=0\n");
    const log = await core.readNamespacedPodLog({ name: pod.metadata?.name ?? "", namespace, container: "main" });
    expect(log).toBe("hi\n");
  });

  describe("with a server on the host", () => {
    let server: Server;
    beforeAll(async () => {
      server = createServer((_request, response) => response.end("hello from the host"));
      await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("reaches it at GUST_TEST_HOST_IP", { timeout: 120_000 }, async () => {
      const { port } = server.address() as AddressInfo;
      // busybox's own `timeout`: its wget crashes with -T (Debian's static 1.35)
      const pod = await runPod(`timeout 20 wget -q -O - http://${hostIp}:${port}/`);
      expect(pod.status?.phase).toBe("Succeeded");
      const log = await core.readNamespacedPodLog({ name: pod.metadata?.name ?? "", namespace, container: "main" });
      expect(log).toBe("hello from the host");
    });
  });
});
