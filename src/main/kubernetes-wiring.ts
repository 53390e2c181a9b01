// Builds the Kubernetes executor from `gust serve` / `gust run` settings: the pod options, the
// client from a kubeconfig (or the in-cluster service account), and per-job runner tokens that let
// a pod reach exactly its own artifacts, cache and source on the runner API.
import type { JobRun } from "../executors/executor";
import { createKubeClient, loadKubeConfig, type KubeClient } from "../executors/kubernetes/kube-client";
import { KubernetesExecutor } from "../executors/kubernetes/kubernetes-executor";
import type { PodSource } from "../executors/kubernetes/job-source";
import { DEFAULT_POD_OPTIONS, type KubernetesPodOptions } from "../executors/kubernetes/pod-options";
import { mintRunnerToken, type RunnerTokenSource } from "../runner-api/runner-token";
import type { GustConfig } from "../config/schema";

export type KubernetesSettings = Pick<
  GustConfig,
  | "kubeconfig"
  | "kubernetesNamespace"
  | "kubernetesDefaultImage"
  | "kubernetesHelperImage"
  | "kubernetesImagePullSecrets"
  | "kubernetesImagePullTimeoutMs"
  | "kubernetesUnschedulableTimeoutMs"
  | "kubernetesKeepFailedPodsMs"
  | "kubernetesVirtualNode"
  | "kubernetesRunAsUser"
  | "kubernetesDefaultCpu"
  | "kubernetesDefaultMemory"
  | "eciUseSpecs"
  | "eciSpotStrategy"
  | "eciAutoImageCache"
  | "eciExtraEphemeralStorage"
>;

/** How a pod is shaped, from the settings (all ECI and virtual-node parts optional: a plain cluster needs none). */
export function podOptionsFrom(settings: KubernetesSettings, overrides: Partial<KubernetesPodOptions> = {}): KubernetesPodOptions {
  const defaultResources = {
    ...(settings.kubernetesDefaultCpu ? { cpu: settings.kubernetesDefaultCpu } : {}),
    ...(settings.kubernetesDefaultMemory ? { memory: settings.kubernetesDefaultMemory } : {}),
  };
  return {
    ...DEFAULT_POD_OPTIONS,
    namespace: settings.kubernetesNamespace,
    defaultImage: settings.kubernetesDefaultImage,
    helperImage: settings.kubernetesHelperImage,
    imagePullSecrets: settings.kubernetesImagePullSecrets,
    // ACK virtual nodes (ASK needs none of this: every pod is an ECI instance there).
    nodeSelector: settings.kubernetesVirtualNode ? { type: "virtual-kubelet" } : {},
    tolerations: settings.kubernetesVirtualNode ? [{ key: "virtual-kubelet.io/provider", operator: "Equal", value: "alibabacloud", effect: "NoSchedule" }] : [],
    ...(settings.kubernetesRunAsUser !== undefined ? { runAsUser: settings.kubernetesRunAsUser, runAsNonRoot: true } : {}),
    ...(Object.keys(defaultResources).length > 0 ? { defaultResources } : {}),
    eci: {
      useSpecs: settings.eciUseSpecs,
      autoImageCache: settings.eciAutoImageCache,
      ...(settings.eciSpotStrategy ? { spotStrategy: settings.eciSpotStrategy, spotFallback: true } : {}),
      ...(settings.eciExtraEphemeralStorage ? { extraEphemeralStorage: settings.eciExtraEphemeralStorage } : {}),
    },
    ...overrides,
  };
}

/** What GET /runner/v1/source serves for a job whose code the pod cannot clone itself. */
function tokenSource(job: JobRun, source: PodSource): RunnerTokenSource | undefined {
  if (source.kind !== "archive") return undefined;
  const workspace = job.workspace;
  return workspace.kind === "directory" ? { kind: "directory", path: workspace.path } : { kind: "git-local", path: workspace.repository, commit: workspace.commit };
}

/** A runner token lives as long as the job may, plus the time to start its pod and upload at the end. */
const TOKEN_MARGIN_MS = 60 * 60_000;
const TOKEN_TTL_WITHOUT_TIMEOUT_MS = 24 * 60 * 60_000;

export interface KubernetesExecutorDeps {
  settings: KubernetesSettings;
  /** Where pods reach the runner API. */
  runnerUrl: string;
  tokenKey: Buffer;
  onError(error: unknown, context: string): void;
  runsStillActive?(runIds: string[]): Promise<Set<string>>;
  /** Tests hand in a client; else one is made from the kubeconfig (or in-cluster). */
  client?: KubeClient;
  podOverrides?: Partial<KubernetesPodOptions>;
  janitorIntervalMs?: number;
  onRequest?(kind: string): void;
  cancelGraceSeconds?: number;
}

export function createKubernetesExecutor(deps: KubernetesExecutorDeps): KubernetesExecutor {
  const { settings } = deps;
  const client = deps.client ?? createKubeClient(loadKubeConfig(settings.kubeconfig));
  return new KubernetesExecutor({
    client,
    pod: podOptionsFrom(settings, deps.podOverrides),
    runnerAccess: (job, source) => {
      const ttl = (job.timeoutMs ?? TOKEN_TTL_WITHOUT_TIMEOUT_MS) + TOKEN_MARGIN_MS;
      const origin = tokenSource(job, source);
      const token = mintRunnerToken(
        deps.tokenKey,
        { run: job.runId, pipelineRun: job.pipelineRunId, job: job.jobKey, needs: job.artifactsFrom, cacheScope: "shared", ...(origin ? { source: origin } : {}) },
        ttl,
      );
      return { url: deps.runnerUrl, token };
    },
    imagePullTimeoutMs: settings.kubernetesImagePullTimeoutMs,
    unschedulableTimeoutMs: settings.kubernetesUnschedulableTimeoutMs,
    cancelGraceSeconds: deps.cancelGraceSeconds ?? 5,
    keepFailedPodsMs: settings.kubernetesKeepFailedPodsMs,
    janitorIntervalMs: deps.janitorIntervalMs ?? 60_000,
    ...(deps.runsStillActive ? { runsStillActive: deps.runsStillActive } : {}),
    onError: deps.onError,
    ...(deps.onRequest ? { onRequest: deps.onRequest } : {}),
  });
}
