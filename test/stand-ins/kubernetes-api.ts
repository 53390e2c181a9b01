// A loopback Kubernetes API server (core/v1 pods, pods/log, secrets, events, namespaces) for what a
// small real cluster cannot show on demand: watch expiry (410), dropped watch and log connections,
// throttling and server errors, thousands of pods. It answers as the real API server does (Status
// objects, resourceVersions, validation), and a simulated scheduler + kubelet runs pods through the
// Gust pod protocol (./kubernetes-pod-driver). @kubernetes/client-node talks to it through
// `kubeConfig` (plain HTTP, bearer token checked on every request).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { EventRecorder } from "./kubernetes-events";
import { GarbageCollector } from "./kubernetes-garbage-collector";
import type { DeleteOptions, Resource } from "./kubernetes-handlers";
import { LogBook } from "./kubernetes-logs";
import { DEFAULT_DRIVER_SETTINGS, PodDriver, type DriverSettings } from "./kubernetes-pod-driver";
import { applyPodDefaults, EVENT_FIELDS, foldStringData, keepPodStatus, POD_FIELDS, SECRET_FIELDS } from "./kubernetes-resources";
import { KubernetesServer, type ScriptedFault } from "./kubernetes-server";
import { ResourceStore, ResourceVersions } from "./kubernetes-store";
import { methodNotAllowed, success } from "./kubernetes-status";
import type { CoreEvent, KubeObject, Pod, Secret } from "./kubernetes-types";
import { validatePod, validateSecret } from "./kubernetes-validation";
import { WatchHub } from "./kubernetes-watch";

export type { DriverSettings } from "./kubernetes-pod-driver";
export type { ScriptedFault } from "./kubernetes-server";
export type { ContainerStatus, CoreEvent, Pod, PodStatus, Secret } from "./kubernetes-types";

export interface KubernetesStandInOptions {
  /** The bearer token the server accepts (default: a fixed test token). */
  token?: string;
  /** Namespaces that exist (default ["default"]); creating in another one is a 404. */
  namespaces?: string[];
  /** Change events kept per resource for watch resumption; older resourceVersions get 410. */
  historySize?: number;
  bookmarkIntervalMs?: number;
  /** The longest a watch stays open (the client's timeoutSeconds can only shorten it). */
  maxWatchSeconds?: number;
  /** Every write acts as fieldValidation=Strict: unknown fields are a 400 rather than dropped with a Warning. */
  strictFields?: boolean;
  /** Delay before the garbage collector deletes the secrets of a deleted pod. */
  gcDelayMs?: number;
  driver?: Partial<DriverSettings>;
}

export interface KubernetesFaults {
  /** The next `count` matching requests fail with this status instead of being served. */
  failNext(count: number, fault: ScriptedFault): void;
  /** Destroys the socket of every open watch (no clean end of the stream); returns how many. */
  dropWatches(): number;
  /** Destroys the socket of every open log follow, between lines; returns how many. */
  dropLogStreams(): number;
  /** Every open log follow gets half of its next line, then its socket is destroyed; returns how many. */
  cutLogStreams(): number;
  /** Forgets the watch history of every resource: resuming from any earlier resourceVersion gets 410. */
  compact(): void;
}

export interface KubernetesDriverControls {
  /** Live settings (timings, images that exist, the node's size…); changes apply to what happens next. */
  readonly settings: DriverSettings;
  /** New pods stay Pending (unscheduled) until resume(). */
  pause(): void;
  /** Drives the pods held while paused, and new ones. */
  resume(): void;
  /** Changes a pod by hand (status included) as one MODIFIED event; returns the stored pod. */
  setPod(namespace: string, name: string, mutate: (pod: Pod) => void): Pod;
  /** Appends a line to a container's log (followers get it at once). */
  log(namespace: string, pod: string, container: string, text: string): void;
}

export interface KubernetesStandIn {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Ready for `makeApiClient(CoreV1Api)`, `new Watch(kubeConfig)`, `new Log(kubeConfig)`. */
  kubeConfig: KubeConfig;
  /** The same as a kubeconfig file's text. */
  kubeconfigYaml: string;
  token: string;
  faults: KubernetesFaults;
  driver: KubernetesDriverControls;
  /** Requests received, by "verb resource" ("create pods", "watch pods", "get pods/log", "patch secrets"). */
  requests(): Map<string, number>;
  resetRequests(): void;
  /** Stored objects of a namespace (all when omitted); do not mutate them. */
  pods(namespace?: string): Pod[];
  secrets(namespace?: string): Secret[];
  events(namespace?: string): CoreEvent[];
  /** The lines logged by a container so far. */
  logLines(namespace: string, pod: string, container: string): string[];
  /** Warning headers sent for unknown fields that were dropped. */
  warnings(): string[];
  addNamespace(name: string): void;
  /** Sends a BOOKMARK now on every open watch that allows them. */
  bookmarkNow(): void;
  openWatches(): number;
  openLogStreams(): number;
  close(): Promise<void>;
}

export async function startKubernetesStandIn(options: KubernetesStandInOptions = {}): Promise<KubernetesStandIn> {
  const token = options.token ?? "gust-stand-in-token";
  const historySize = options.historySize ?? 10_000;
  const now = () => Date.now();
  const versions = new ResourceVersions();
  const pods = new ResourceStore<Pod>("pods", "Pod", versions, historySize);
  const secrets = new ResourceStore<Secret>("secrets", "Secret", versions, historySize);
  const events = new ResourceStore<CoreEvent>("events", "Event", versions, historySize);
  const logs = new LogBook();
  const recorder = new EventRecorder(events, now);
  const driver = new PodDriver({ pods, secrets, logs, events: recorder, now }, { ...DEFAULT_DRIVER_SETTINGS, ...options.driver });
  const collector = new GarbageCollector(pods, secrets, () => options.gcDelayMs ?? 2);
  const watches = new WatchHub({ bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000, maxTimeoutSeconds: options.maxWatchSeconds ?? 1800 }, () => versions.current);
  const namespaces = new Set(options.namespaces ?? ["default"]);

  const podResource: Resource<Pod> = {
    plural: "pods",
    kind: "Pod",
    model: "V1Pod",
    store: pods,
    fields: POD_FIELDS,
    create: applyPodDefaults,
    normalize: () => {},
    validate: validatePod,
    keep: keepPodStatus,
    created: (pod) => driver.admit(pod),
    delete: (pod, deleteOptions: DeleteOptions) => driver.delete(pod, deleteOptions.gracePeriodSeconds),
  };
  const secretResource: Resource<Secret> = {
    plural: "secrets",
    kind: "Secret",
    model: "V1Secret",
    store: secrets,
    fields: SECRET_FIELDS,
    create: () => {},
    normalize: foldStringData,
    validate: validateSecret,
    keep: () => {},
    created: () => {},
    delete: (secret) => {
      secrets.remove(secret.metadata.namespace ?? "default", secret.metadata.name);
      return success({ name: secret.metadata.name, kind: "secrets", uid: secret.metadata.uid });
    },
  };
  const readOnly = (): never => {
    throw methodNotAllowed();
  };
  const eventResource: Resource<CoreEvent> = {
    plural: "events",
    kind: "Event",
    model: "CoreV1Event",
    store: events,
    fields: EVENT_FIELDS,
    create: readOnly,
    normalize: () => {},
    validate: readOnly,
    keep: () => {},
    created: () => {},
    delete: readOnly,
  };
  const resources = new Map<string, Resource<KubeObject>>([
    ["pods", podResource as unknown as Resource<KubeObject>],
    ["secrets", secretResource as unknown as Resource<KubeObject>],
    ["events", eventResource as unknown as Resource<KubeObject>],
  ]);

  const api = new KubernetesServer({ token, resources, namespaces, watches, logs, strictFields: options.strictFields ?? false, currentVersion: () => versions.current, now });
  const server: Server = createServer((request, response) => void api.handle(request, response));
  // Keep-alive connections and long watches must not hold close() up.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigYaml = kubeconfigText(url, token);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfigYaml);

  const stores = [pods, secrets, events];
  return {
    url,
    kubeConfig,
    kubeconfigYaml,
    token,
    faults: {
      failNext: (count, fault) => api.failNext(count, fault),
      dropWatches: () => watches.dropAll(),
      dropLogStreams: () => logs.dropAll(),
      cutLogStreams: () => logs.cutAll(),
      compact: () => stores.forEach((store) => store.compact()),
    },
    driver: {
      settings: driver.settings,
      pause: () => driver.pause(),
      resume: () => driver.resume(),
      setPod: (namespace, name, mutate) => {
        const pod = pods.modify(namespace, name, mutate);
        if (!pod) throw new Error(`setPod: no pod ${namespace}/${name}`);
        // A container set to terminated ends its log follows, as its exit would.
        for (const entry of [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])]) {
          if (entry.state.terminated) logs.end(`${namespace}/${name}/${entry.name}`);
        }
        return pod;
      },
      log: (namespace, pod, container, text) => logs.append(`${namespace}/${pod}/${container}`, text),
    },
    requests: () => api.requests(),
    resetRequests: () => api.resetRequests(),
    pods: (namespace) => pods.list(namespace),
    secrets: (namespace) => secrets.list(namespace),
    events: (namespace) => events.list(namespace),
    logLines: (namespace, pod, container) => logs.lines(`${namespace}/${pod}/${container}`),
    warnings: () => [...api.warnings],
    addNamespace: (name) => void namespaces.add(name),
    bookmarkNow: () => watches.bookmarkAll(),
    openWatches: () => watches.count,
    openLogStreams: () => logs.followers().length,
    close: async () => {
      driver.close();
      collector.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function kubeconfigText(url: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: stand-in",
    "    cluster:",
    `      server: ${url}`,
    // @kubernetes/client-node refuses plain http unless TLS verification is "skipped".
    "      insecure-skip-tls-verify: true",
    "users:",
    "  - name: gust",
    "    user:",
    `      token: ${token}`,
    "contexts:",
    "  - name: stand-in",
    "    context:",
    "      cluster: stand-in",
    "      user: gust",
    "      namespace: default",
    "current-context: stand-in",
    "",
  ].join("\n");
}
