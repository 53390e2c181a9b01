// The few Kubernetes API calls the executor makes, as one small port. The real implementation uses
// @kubernetes/client-node: its generated CoreV1Api for reads and writes, and its KubeConfig's
// authentication for the two long-lived streams (watch, follow a log), which are read here directly
// so that a clean end, a dropped connection and an error status can be told apart.
import http from "node:http";
import https from "node:https";
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { KubeApiError, kubeApiErrorFrom } from "./kube-errors";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface PodWatchHandlers {
  onEvent(type: WatchEventType, object: V1Pod & { code?: number; reason?: string; message?: string }): void;
  /** The stream ended: `error` is set when it failed, undefined when the server closed it normally. */
  onEnd(error?: Error): void;
}

export interface LogStream {
  /** Resolves `ended` when the server finished the response, `dropped` when the connection broke. */
  done: Promise<"ended" | "dropped">;
  abort(): void;
}

export interface KubeClient {
  createSecret(namespace: string, body: V1Secret): Promise<V1Secret>;
  /** A JSON merge patch. */
  patchSecret(namespace: string, name: string, patch: object): Promise<void>;
  /** Resolves also when the secret does not exist. */
  deleteSecret(namespace: string, name: string): Promise<void>;
  createPod(namespace: string, body: V1Pod): Promise<V1Pod>;
  readPod(namespace: string, name: string): Promise<V1Pod | null>;
  /** Resolves also when the pod does not exist. */
  deletePod(namespace: string, name: string, gracePeriodSeconds: number): Promise<void>;
  /** A JSON merge patch of the pod's metadata (labels, annotations). */
  patchPod(namespace: string, name: string, patch: object): Promise<void>;
  listPods(namespace: string, labelSelector: string): Promise<{ items: V1Pod[]; resourceVersion: string }>;
  listPodEvents(namespace: string, podName: string): Promise<CoreV1Event[]>;
  watchPods(namespace: string, options: { labelSelector: string; resourceVersion: string; timeoutSeconds: number }, handlers: PodWatchHandlers): { abort(): void };
  /** Streams a container's log; `onText` gets the body in pieces as they arrive. Rejects with KubeApiError before the first byte. */
  streamLog(namespace: string, pod: string, container: string, options: { follow: boolean; sinceTime?: string }, onText: (text: string) => void): Promise<LogStream>;
}

/** Loads a kubeconfig file, or the in-cluster configuration when no file is given and one exists, else the default chain. */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  if (!config.getCurrentCluster()) throw new Error("the kubeconfig names no current cluster");
  return config;
}

export function createKubeClient(config: KubeConfig): KubeClient {
  const core = config.makeApiClient(CoreV1Api);
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw kubeApiErrorFrom(error);
    }
  };
  const ignoreNotFound = (error: unknown): void => {
    if (error instanceof KubeApiError && error.status === 404) return;
    throw error;
  };

  return {
    createSecret: (namespace, body) => call(() => core.createNamespacedSecret({ namespace, body })),
    patchSecret: async (namespace, name, patch) => {
      await call(() => core.patchNamespacedSecret({ name, namespace, body: patch }, mergePatch));
    },
    deleteSecret: async (namespace, name) => {
      await call(() => core.deleteNamespacedSecret({ name, namespace })).catch(ignoreNotFound);
    },
    createPod: (namespace, body) => call(() => core.createNamespacedPod({ namespace, body })),
    readPod: async (namespace, name) => {
      try {
        return await call(() => core.readNamespacedPod({ name, namespace }));
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 404) return null;
        throw error;
      }
    },
    deletePod: async (namespace, name, gracePeriodSeconds) => {
      await call(() => core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds })).catch(ignoreNotFound);
    },
    patchPod: async (namespace, name, patch) => {
      await call(() => core.patchNamespacedPod({ name, namespace, body: patch }, mergePatch));
    },
    listPods: async (namespace, labelSelector) => {
      const list = await call(() => core.listNamespacedPod({ namespace, labelSelector }));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    },
    listPodEvents: async (namespace, podName) => {
      const list = await call(() => core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${podName}` }));
      return list.items;
    },
    watchPods: (namespace, options, handlers) => watchPods(config, namespace, options, handlers),
    streamLog: (namespace, pod, container, options, onText) => streamLog(config, namespace, pod, container, options, onText),
  };
}

interface OpenStream {
  response: http.IncomingMessage;
  request: http.ClientRequest;
}

/** GETs a streaming API path with the kubeconfig's credentials; rejects with KubeApiError on a non-200 answer. */
async function openStream(config: KubeConfig, path: string, query: Record<string, string>): Promise<OpenStream> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig names no current cluster");
  const url = new URL(cluster.server.replace(/\/$/, "") + path);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const options: https.RequestOptions = { method: "GET", headers: { Accept: "application/json" } };
  await config.applyToHTTPSOptions(options);
  const transport = url.protocol === "https:" ? https : http;
  return await new Promise<OpenStream>((resolve, reject) => {
    const request = transport.request(url, options, (response) => {
      if (response.statusCode === 200) {
        resolve({ response, request });
        return;
      }
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (piece: string) => (body += piece.length + body.length < 65536 ? piece : ""));
      response.on("end", () => reject(kubeApiErrorFrom({ code: response.statusCode ?? 500, body, headers: response.headers })));
      response.on("error", reject);
    });
    request.on("error", (error) => reject(kubeApiErrorFrom(error)));
    request.end();
  });
}

function watchPods(
  config: KubeConfig,
  namespace: string,
  options: { labelSelector: string; resourceVersion: string; timeoutSeconds: number },
  handlers: PodWatchHandlers,
): { abort(): void } {
  let aborted = false;
  let ended = false;
  let stream: OpenStream | undefined;
  const end = (error?: Error): void => {
    if (ended) return;
    ended = true;
    handlers.onEnd(error);
  };
  const query: Record<string, string> = {
    watch: "true",
    labelSelector: options.labelSelector,
    allowWatchBookmarks: "true",
    timeoutSeconds: String(options.timeoutSeconds),
  };
  if (options.resourceVersion) query.resourceVersion = options.resourceVersion;
  openStream(config, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, query).then(
    (opened) => {
      stream = opened;
      if (aborted) {
        opened.request.destroy();
        return;
      }
      let pending = "";
      opened.response.setEncoding("utf8");
      opened.response.on("data", (piece: string) => {
        pending += piece;
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          newline = pending.indexOf("\n");
          if (!line || ended) continue;
          let event: { type: WatchEventType; object: V1Pod };
          try {
            event = JSON.parse(line) as { type: WatchEventType; object: V1Pod };
          } catch {
            end(new Error("the watch sent a line that is not JSON"));
            opened.request.destroy();
            return;
          }
          handlers.onEvent(event.type, event.object);
        }
      });
      opened.response.on("end", () => end(opened.response.complete ? undefined : new Error("the watch connection dropped")));
      opened.response.on("aborted", () => end(new Error("the watch connection dropped")));
      opened.response.on("error", (error) => end(error));
      opened.response.on("close", () => end(opened.response.complete ? undefined : new Error("the watch connection dropped")));
    },
    (error: Error) => end(error),
  );
  return {
    abort() {
      aborted = true;
      ended = true;
      stream?.request.destroy();
    },
  };
}

async function streamLog(
  config: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  options: { follow: boolean; sinceTime?: string },
  onText: (text: string) => void,
): Promise<LogStream> {
  const query: Record<string, string> = { container, timestamps: "true", follow: String(options.follow) };
  if (options.sinceTime) query.sinceTime = options.sinceTime;
  const opened = await openStream(config, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, query);
  opened.response.setEncoding("utf8");
  opened.response.on("data", onText);
  const done = new Promise<"ended" | "dropped">((resolve) => {
    opened.response.on("end", () => resolve(opened.response.complete ? "ended" : "dropped"));
    opened.response.on("aborted", () => resolve("dropped"));
    opened.response.on("error", () => resolve("dropped"));
    opened.response.on("close", () => resolve(opened.response.complete ? "ended" : "dropped"));
  });
  return { done, abort: () => opened.request.destroy() };
}
