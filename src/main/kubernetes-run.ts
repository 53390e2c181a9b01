// `gust run --executor kubernetes`: the laptop runs the pipeline, the cluster runs the jobs. The
// pods reach a runner API this process serves for the length of the run (sources of the working
// tree, artifacts between jobs, cache), with a key that lives only as long as the process.
import { randomBytes } from "node:crypto";
import { serve as serveHttp } from "@hono/node-server";
import type { GustConfig } from "../config";
import type { Executor } from "../executors/executor";
import { FileBlobStore, standaloneRunnerApi } from "../runner-api";
import { createKubernetesExecutor } from "./kubernetes-wiring";

export interface KubernetesRun {
  executor: Executor;
  close(): Promise<void>;
}

export async function startKubernetesRun(config: GustConfig, options: { dataDir: string; warn(text: string): void }): Promise<KubernetesRun> {
  if (!config.runnerUrl) throw new Error("--runner-url is needed with --executor kubernetes: the address at which the cluster's pods reach this machine (e.g. http://10.0.0.5:8099)");
  const runnerUrl = new URL(config.runnerUrl);
  const port = Number(runnerUrl.port || (runnerUrl.protocol === "https:" ? 443 : 80));
  const tokenKey = randomBytes(32);
  const api = standaloneRunnerApi({ tokenKey, blobs: new FileBlobStore(options.dataDir), maxUploadBytes: config.runnerUploadLimit, sourceExclude: [options.dataDir] });
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve, reject) => {
    const started = serveHttp({ fetch: api.fetch, port, hostname: "0.0.0.0" }, () => resolve(started));
    started.once("error", reject);
  });
  const executor = createKubernetesExecutor({
    settings: config,
    runnerUrl: config.runnerUrl,
    tokenKey,
    // Only this run's pods matter here; leftovers of other runs are not ours to judge.
    janitorIntervalMs: 0,
    onError: (error, context) => options.warn(`${context}: ${error instanceof Error ? error.message : String(error)}`),
  });
  return {
    executor,
    async close() {
      await executor.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
