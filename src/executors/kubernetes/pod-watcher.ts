// One shared watch of Gust's pods in a namespace: a list, then a watch resumed from the last
// resourceVersion seen (bookmarks keep it fresh); on 410 Gone it lists again, and a dropped
// connection is resumed with backoff. Jobs subscribe by pod name and are told of every change, so no
// job ever polls the API.
import type { V1Pod } from "@kubernetes/client-node";
import type { KubeClient, WatchEventType } from "./kube-client";
import { KubeApiError, kubeApiErrorFrom } from "./kube-errors";

export type PodListener = (pod: V1Pod, type: "ADDED" | "MODIFIED" | "DELETED") => void;

export interface PodWatcherOptions {
  client: KubeClient;
  namespace: string;
  labelSelector: string;
  /** The server ends a watch after this long (it is then resumed). */
  watchTimeoutSeconds?: number;
  onError?: (error: unknown, context: string) => void;
  /** For tests and metrics: told of each list and watch request. */
  onRequest?: (kind: "list" | "watch") => void;
}

export class PodWatcher {
  private readonly pods = new Map<string, V1Pod>();
  private readonly listeners = new Map<string, Set<PodListener>>();
  private readonly anyListeners = new Set<PodListener>();
  private resourceVersion = "";
  private current: { abort(): void } | undefined;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly synced: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly options: PodWatcherOptions) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  /** Lists and starts watching; resolves once the first list is in the cache. */
  start(): Promise<void> {
    void this.relist();
    return this.synced;
  }

  /** Resolves once the cache holds the first list. */
  ready(): Promise<void> {
    return this.synced;
  }

  get(name: string): V1Pod | undefined {
    return this.pods.get(name);
  }

  all(): V1Pod[] {
    return [...this.pods.values()];
  }

  /** Calls `listener` on every change of the named pod; returns the unsubscribe function. */
  subscribe(name: string, listener: PodListener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  subscribeAll(listener: PodListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Puts a pod the executor just created or read into the cache (the watch event may come later). */
  remember(pod: V1Pod): void {
    const name = pod.metadata?.name;
    if (!name) return;
    const known = this.pods.get(name);
    if (known && Number(known.metadata?.resourceVersion ?? 0) >= Number(pod.metadata?.resourceVersion ?? 0)) return;
    this.apply("MODIFIED", pod);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.current?.abort();
    this.markSynced();
  }

  private async relist(): Promise<void> {
    if (this.closed) return;
    try {
      this.options.onRequest?.("list");
      const list = await this.options.client.listPods(this.options.namespace, this.options.labelSelector);
      const seen = new Set<string>();
      for (const pod of list.items) {
        const name = pod.metadata?.name;
        if (!name) continue;
        seen.add(name);
        this.apply("MODIFIED", pod);
      }
      // Pods that vanished while no watch was open.
      for (const [name, pod] of this.pods) if (!seen.has(name)) this.apply("DELETED", pod);
      this.resourceVersion = list.resourceVersion;
      this.failures = 0;
      this.markSynced();
      this.watch();
    } catch (error) {
      this.options.onError?.(error, `listing pods in ${this.options.namespace}`);
      this.retry(() => void this.relist());
    }
  }

  private watch(): void {
    if (this.closed) return;
    this.options.onRequest?.("watch");
    this.current = this.options.client.watchPods(
      this.options.namespace,
      { labelSelector: this.options.labelSelector, resourceVersion: this.resourceVersion, timeoutSeconds: this.options.watchTimeoutSeconds ?? 300 },
      {
        onEvent: (type: WatchEventType, object) => {
          if (type === "ERROR") {
            // 410 Gone: our resourceVersion is older than the server keeps. Only a new list helps.
            const status = object as { code?: number; message?: string };
            this.current?.abort();
            if (status.code === 410) this.retry(() => void this.relist(), true);
            else {
              this.options.onError?.(kubeApiErrorFrom({ code: status.code ?? 500, body: object }), "watching pods");
              this.retry(() => void this.relist());
            }
            this.current = undefined;
            return;
          }
          const version = object.metadata?.resourceVersion;
          if (version) this.resourceVersion = version;
          this.failures = 0;
          if (type !== "BOOKMARK") this.apply(type, object);
        },
        onEnd: (error) => {
          if (this.closed) return;
          this.current = undefined;
          if (!error) {
            this.watch();
            return;
          }
          if (error instanceof KubeApiError && error.status === 410) {
            this.retry(() => void this.relist(), true);
            return;
          }
          this.options.onError?.(error, "watching pods (resuming)");
          this.retry(() => this.watch());
        },
      },
    );
  }

  private retry(action: () => void, immediately = false): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    const delay = immediately ? 0 : Math.min(10_000, 100 * 2 ** this.failures++);
    this.retryTimer = setTimeout(action, delay);
    this.retryTimer.unref();
  }

  private apply(type: "ADDED" | "MODIFIED" | "DELETED", full: V1Pod): void {
    const pod = slimPod(full);
    const name = pod.metadata?.name;
    if (!name) return;
    if (type === "DELETED") this.pods.delete(name);
    else this.pods.set(name, pod);
    for (const listener of this.listeners.get(name) ?? []) listener(pod, type);
    for (const listener of this.anyListeners) listener(pod, type);
  }
}

/**
 * What the executor reads of a pod: its metadata (without managedFields, often the largest part),
 * its status, and its containers' names. Thousands of pods are held at once; the rest of the spec
 * (env, commands, volumes) is Gust's own and known already.
 */
export function slimPod(pod: V1Pod): V1Pod {
  const { managedFields: _managed, ...metadata } = pod.metadata ?? {};
  const names = (containers: Array<{ name: string }> | undefined) => containers?.map((container) => ({ name: container.name, image: "" }));
  return {
    metadata,
    ...(pod.status ? { status: pod.status } : {}),
    ...(pod.spec ? { spec: { containers: names(pod.spec.containers) ?? [], ...(pod.spec.initContainers ? { initContainers: names(pod.spec.initContainers) } : {}) } } : {}),
  };
}
