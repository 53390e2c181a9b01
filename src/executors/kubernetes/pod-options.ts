// What an operator configures about the pods Gust creates: where they run, which images carry the
// helper, how they are secured, and the ECI (Alibaba Cloud Serverless Kubernetes) annotations.
// Plain data; the config layer fills it, pod-spec.ts reads it.

export interface EciPodOptions {
  /**
   * Set `k8s.aliyun.com/eci-use-specs` from the job's resources. ECI sizes a pod by the sum of its
   * containers' limits when it has limits (each step container's limit is the job's whole
   * allowance), so without this annotation a pod of 5 steps would be billed for 5 times the job's
   * size. Other clusters ignore the annotation, which is why it is on by default.
   */
  useSpecs: boolean;
  spotStrategy?: "SpotAsPriceGo" | "SpotWithPriceLimit";
  /** Highest hourly price, with SpotWithPriceLimit. */
  spotPriceLimit?: string;
  /** Fall back to a pay-as-you-go instance when no spot instance is available. */
  spotFallback?: boolean;
  /** Let ECI create and pick image caches by itself (`eci-auto-imc`). */
  autoImageCache: boolean;
  /** Use this image cache (`eci-imc-id`). */
  imageCacheId?: string;
  /** Ephemeral storage beyond the 30 GiB ECI gives by default, e.g. "50Gi". */
  extraEphemeralStorage?: string;
  /** RAM role the pod's instance assumes (`eci-ram-role-name`). */
  ramRoleName?: string;
  /** Give up creating the instance after this many minutes pending (`eci-max-pending-minute`). */
  maxPendingMinutes?: number;
}

export interface KubernetesPodOptions {
  namespace: string;
  /** Step image when neither the step nor the job names one. */
  defaultImage: string;
  /** Image of the init (gust-prepare) and finish (gust-finish) containers. */
  helperImage: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  imagePullSecrets: string[];
  serviceAccountName?: string;
  nodeSelector: Record<string, string>;
  tolerations: { key?: string; operator?: "Equal" | "Exists"; value?: string; effect?: string }[];
  /** Extra labels, e.g. `alibabacloud.com/eci: "true"` to land on ECI virtual nodes. */
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  runAsUser?: number;
  runAsNonRoot: boolean;
  /** Per-field default for jobs that state no `resources` (none at all when unset). */
  defaultResources?: { cpu?: string; memory?: string };
  eci: EciPodOptions;
  /** Added to the job timeout for activeDeadlineSeconds: image pulls and the clone take time too. */
  startupAllowanceMs: number;
}

export const DEFAULT_POD_OPTIONS: Omit<KubernetesPodOptions, "namespace" | "defaultImage" | "helperImage"> = {
  imagePullSecrets: [],
  nodeSelector: {},
  tolerations: [],
  podLabels: {},
  podAnnotations: {},
  runAsNonRoot: false,
  eci: { useSpecs: true, autoImageCache: false },
  startupAllowanceMs: 10 * 60_000,
};
