// How each setting is spelled in every source, what a valid value looks like (for error messages),
// and its default. The config file uses the flag names as keys, so one name works everywhere.
import { DEFAULT_WEBHOOK_BODY_LIMIT, EXECUTORS, LOG_LEVELS, type ConfigField, type ConfigInput } from "./schema";

export interface FieldSpec {
  /** Key in the config file, and the flag name when `flag` is true. */
  name: string;
  /** Environment variables, the first present wins (the GUST_ one before the conventional one). */
  env: string[];
  /**
   * Secrets and credentials have no flag: a command line is readable by every user of the machine
   * through `ps` and /proc.
   */
  flag: boolean;
  /** Finishes "expected …" in error messages. */
  expected: string;
  /** Never echo the value in an error message. */
  secret?: boolean;
  /** A list: comma-separated in environment variables. */
  list?: boolean;
}

export const FIELDS: Record<ConfigField, FieldSpec> = {
  host: { name: "host", env: ["GUST_HOST"], flag: true, expected: "a host name or IP address to listen on" },
  port: { name: "port", env: ["GUST_PORT", "PORT"], flag: true, expected: "a port number" },
  publicUrl: { name: "public-url", env: ["GUST_PUBLIC_URL"], flag: true, expected: "an http:// or https:// URL" },
  dataDir: { name: "data-dir", env: ["GUST_DATA_DIR"], flag: true, expected: "a directory path" },
  databaseUrl: {
    name: "database-url",
    env: ["GUST_DATABASE_URL", "DATABASE_URL"],
    flag: false,
    expected: "a postgres:// or postgresql:// URL",
    secret: true,
  },
  masterKey: {
    name: "master-key",
    env: ["GUST_MASTER_KEY"],
    flag: false,
    expected: "32 bytes as 64 hex digits or base64 (openssl rand -base64 32)",
    secret: true,
  },
  masterKeyFile: { name: "master-key-file", env: ["GUST_MASTER_KEY_FILE"], flag: true, expected: "a file path" },
  executor: { name: "executor", env: ["GUST_EXECUTOR"], flag: true, expected: `one of ${EXECUTORS.join(", ")}` },
  maxConcurrentJobs: {
    name: "max-concurrent-jobs",
    env: ["GUST_MAX_CONCURRENT_JOBS"],
    flag: true,
    expected: "a whole number from 1 to 100000",
  },
  webhookBodyLimit: {
    name: "webhook-body-limit",
    env: ["GUST_WEBHOOK_BODY_LIMIT"],
    flag: true,
    expected: "a size from 1KiB to 1GiB, such as 25MiB, 512KiB or a number of bytes",
  },
  githubWebhookSecrets: {
    name: "github-webhook-secrets",
    env: ["GUST_GITHUB_WEBHOOK_SECRETS"],
    flag: false,
    expected: "a list of non-empty secrets",
    secret: true,
    list: true,
  },
  gitlabWebhookSecrets: {
    name: "gitlab-webhook-secrets",
    env: ["GUST_GITLAB_WEBHOOK_SECRETS"],
    flag: false,
    expected: "a list of non-empty secrets",
    secret: true,
    list: true,
  },
  logLevel: { name: "log-level", env: ["GUST_LOG_LEVEL"], flag: true, expected: `one of ${LOG_LEVELS.join(", ")}` },
  shutdownGraceMs: {
    name: "shutdown-grace-ms",
    env: ["GUST_SHUTDOWN_GRACE_MS"],
    flag: true,
    expected: "a whole number of milliseconds up to 3600000",
  },
  leaseTimeoutMs: {
    name: "lease-timeout-ms",
    env: ["GUST_LEASE_TIMEOUT_MS"],
    flag: true,
    expected: "a whole number of milliseconds from 1000 to 3600000",
  },
  globalMaxJobs: {
    name: "global-max-jobs",
    env: ["GUST_GLOBAL_MAX_JOBS"],
    flag: true,
    expected: "a whole number from 1 to 1000000",
  },
  scheduleRefreshMs: {
    name: "schedule-refresh-ms",
    env: ["GUST_SCHEDULE_REFRESH_MS"],
    flag: true,
    expected: "a whole number of milliseconds from 1000 to 86400000",
  },
  runnerUploadLimit: { name: "runner-upload-limit", env: ["GUST_RUNNER_UPLOAD_LIMIT"], flag: true, expected: "a size such as 2GiB" },
  runnerUrl: { name: "runner-url", env: ["GUST_RUNNER_URL"], flag: true, expected: "an http:// or https:// URL job pods can reach" },
  kubeconfig: { name: "kubeconfig", env: ["GUST_KUBECONFIG", "KUBECONFIG"], flag: true, expected: "a kubeconfig file path" },
  kubernetesNamespace: { name: "kubernetes-namespace", env: ["GUST_KUBERNETES_NAMESPACE"], flag: true, expected: "a Kubernetes namespace name" },
  kubernetesDefaultImage: { name: "kubernetes-default-image", env: ["GUST_KUBERNETES_DEFAULT_IMAGE"], flag: true, expected: "an image reference" },
  kubernetesHelperImage: { name: "kubernetes-helper-image", env: ["GUST_KUBERNETES_HELPER_IMAGE"], flag: true, expected: "an image reference" },
  kubernetesImagePullSecrets: { name: "kubernetes-image-pull-secrets", env: ["GUST_KUBERNETES_IMAGE_PULL_SECRETS"], flag: true, expected: "a list of Secret names", list: true },
  kubernetesImagePullTimeoutMs: { name: "kubernetes-image-pull-timeout-ms", env: ["GUST_KUBERNETES_IMAGE_PULL_TIMEOUT_MS"], flag: true, expected: "a whole number of milliseconds" },
  kubernetesUnschedulableTimeoutMs: { name: "kubernetes-unschedulable-timeout-ms", env: ["GUST_KUBERNETES_UNSCHEDULABLE_TIMEOUT_MS"], flag: true, expected: "a whole number of milliseconds" },
  kubernetesKeepFailedPodsMs: { name: "kubernetes-keep-failed-pods-ms", env: ["GUST_KUBERNETES_KEEP_FAILED_PODS_MS"], flag: true, expected: "a whole number of milliseconds (0: delete at once)" },
  kubernetesVirtualNode: { name: "kubernetes-virtual-node", env: ["GUST_KUBERNETES_VIRTUAL_NODE"], flag: true, expected: "true or false" },
  kubernetesRunAsUser: { name: "kubernetes-run-as-user", env: ["GUST_KUBERNETES_RUN_AS_USER"], flag: true, expected: "a user id above 0" },
  kubernetesDefaultCpu: { name: "kubernetes-default-cpu", env: ["GUST_KUBERNETES_DEFAULT_CPU"], flag: true, expected: "a CPU quantity such as 500m or 2" },
  kubernetesDefaultMemory: { name: "kubernetes-default-memory", env: ["GUST_KUBERNETES_DEFAULT_MEMORY"], flag: true, expected: "a memory quantity such as 4Gi" },
  eciUseSpecs: { name: "eci-use-specs", env: ["GUST_ECI_USE_SPECS"], flag: true, expected: "true or false" },
  eciSpotStrategy: { name: "eci-spot-strategy", env: ["GUST_ECI_SPOT_STRATEGY"], flag: true, expected: "SpotAsPriceGo or SpotWithPriceLimit" },
  eciAutoImageCache: { name: "eci-auto-image-cache", env: ["GUST_ECI_AUTO_IMAGE_CACHE"], flag: true, expected: "true or false" },
  eciExtraEphemeralStorage: { name: "eci-extra-ephemeral-storage", env: ["GUST_ECI_EXTRA_EPHEMERAL_STORAGE"], flag: true, expected: "a storage quantity such as 50Gi" },
  // Only GUST_ names: the conventional ALIBABA_CLOUD_* variables are left to the SDK's default chain,
  // which also reads ALIBABA_CLOUD_SECURITY_TOKEN (STS) that a plain key pair here would drop.
  localReleaseHost: { name: "local-release-host", env: ["GUST_LOCAL_RELEASE_HOST"], flag: true, expected: "an address to listen on, such as 127.0.0.1" },
  alicloudAccessKeyId: { name: "alicloud-access-key-id", env: ["GUST_ALICLOUD_ACCESS_KEY_ID"], flag: false, expected: "an AccessKey ID" },
  alicloudAccessKeySecret: { name: "alicloud-access-key-secret", env: ["GUST_ALICLOUD_ACCESS_KEY_SECRET"], flag: false, expected: "an AccessKey secret", secret: true },
  fcEndpoint: { name: "fc-endpoint", env: ["GUST_FC_ENDPOINT"], flag: true, expected: "a host[:port] such as fcv3.{region}.aliyuncs.com" },
  saeEndpoint: { name: "sae-endpoint", env: ["GUST_SAE_ENDPOINT"], flag: true, expected: "a host[:port] such as sae.{region}.aliyuncs.com" },
  alicloudProtocol: { name: "alicloud-protocol", env: ["GUST_ALICLOUD_PROTOCOL"], flag: true, expected: "https or http" },
};

export const FIELD_KEYS = Object.keys(FIELDS) as ConfigField[];

/** Defaults: enough to start on one machine with the embedded database and local processes. */
export const DEFAULTS: Partial<ConfigInput> = {
  // Forges must reach the webhook routes, so listen on every interface like a container would.
  host: "0.0.0.0",
  port: 8080,
  dataDir: "./.gust",
  executor: "local",
  maxConcurrentJobs: 4,
  webhookBodyLimit: DEFAULT_WEBHOOK_BODY_LIMIT,
  githubWebhookSecrets: [],
  gitlabWebhookSecrets: [],
  logLevel: "info",
  shutdownGraceMs: 30_000,
  leaseTimeoutMs: 60_000,
  scheduleRefreshMs: 300_000,
  runnerUploadLimit: 2 * 1024 ** 3,
  kubernetesNamespace: "default",
  kubernetesDefaultImage: "alpine:3.21",
  // Built from runner-images/helper/Dockerfile and pushed to a registry the cluster pulls from.
  kubernetesHelperImage: "gust-helper:0.1.0",
  kubernetesImagePullSecrets: [],
  kubernetesImagePullTimeoutMs: 180_000,
  kubernetesUnschedulableTimeoutMs: 600_000,
  kubernetesKeepFailedPodsMs: 0,
  kubernetesVirtualNode: false,
  eciUseSpecs: true,
  eciAutoImageCache: false,
  alicloudProtocol: "https",
  localReleaseHost: "127.0.0.1",
};

/** `--config` / `GUST_CONFIG`: where the settings file is; not a setting itself. */
export const CONFIG_FLAG = "config";
export const CONFIG_ENV = "GUST_CONFIG";
