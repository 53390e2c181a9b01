// The `gust serve` settings as one zod schema. Every field accepts the text form too (environment
// variables and flags are strings; a config file may quote numbers), so one schema validates all sources.
import { z } from "zod";

export const EXECUTORS = ["local", "kubernetes"] as const;
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Like GitHub's own cap on webhook payloads. */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 25 * 1024 * 1024;

const wholeNumber = (min: number, max: number) =>
  z
    .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)])
    .pipe(z.number().int().min(min).max(max));

const SIZE_UNITS: Record<string, number> = {
  "": 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** `25MiB`, `512 KiB`, `1MB`, `26214400` → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = SIZE_UNITS[match[2]!.toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

const size = (min: number, max: number) =>
  z
    .union([z.number(), z.string()])
    .transform((value, ctx) => {
      const bytes = typeof value === "number" ? value : parseSize(value);
      if (bytes === undefined) {
        ctx.addIssue({ code: "custom", message: "not a size" });
        return z.NEVER;
      }
      return bytes;
    })
    .pipe(z.number().int().min(min).max(max));

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine((text) => {
      try {
        return protocols.includes(new URL(text).protocol);
      } catch {
        return false;
      }
    });

/** AES-256-GCM needs exactly 32 bytes; accept them as 64 hex digits or base64 (`openssl rand -base64 32`). */
const masterKey = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const bytes = /^[0-9a-f]{64}$/i.test(text)
      ? Buffer.from(text, "hex")
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
        ? Buffer.from(text, "base64")
        : undefined;
    if (bytes?.length !== 32) {
      ctx.addIssue({ code: "custom", message: "not 32 bytes" });
      return z.NEVER;
    }
    return bytes;
  });

const yesNo = z
  .union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"]).transform((text) => ["true", "1", "yes"].includes(text))])
  .pipe(z.boolean());

/** A Kubernetes resource quantity such as `500m`, `2`, `4Gi`. */
const quantity = z.string().trim().regex(/^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/);

// An empty secret would let anyone sign a delivery, so every entry must have content.
const secretList = z.array(z.string().refine((secret) => secret.trim() !== ""));

export const configSchema = z.object({
  host: z.string().trim().min(1),
  port: wholeNumber(0, 65535),
  /** Where forges and browsers reach this server; derived from host and port when absent. */
  publicUrl: url(["http:", "https:"]).optional(),
  dataDir: z.string().trim().min(1),
  /** Absent: the embedded PGlite database in dataDir. */
  databaseUrl: url(["postgres:", "postgresql:"]).optional(),
  /** Decoded key; set from masterKey or read from masterKeyFile by the loader. */
  masterKey: masterKey.optional(),
  masterKeyFile: z.string().trim().min(1).optional(),
  executor: z.enum(EXECUTORS),
  /** Jobs running at once on this replica, all repositories together. */
  maxConcurrentJobs: wholeNumber(1, 100_000),
  webhookBodyLimit: size(1024, 1024 ** 3),
  githubWebhookSecrets: secretList,
  gitlabWebhookSecrets: secretList,
  logLevel: z.enum(LOG_LEVELS),
  shutdownGraceMs: wholeNumber(0, 3_600_000),
  /**
   * How long a job's lease lasts without a heartbeat: a replica that died holds its jobs this long
   * before another one reconciles them. Heartbeats come at a quarter of it.
   */
  leaseTimeoutMs: wholeNumber(1_000, 3_600_000),
  /** Running jobs across all replicas; absent means only each replica's own limit applies. */
  globalMaxJobs: wholeNumber(1, 1_000_000).optional(),
  /** How often `on: schedule` entries are read again from every repository (pushes to a default branch also refresh). */
  scheduleRefreshMs: wholeNumber(1_000, 86_400_000),
  /** Largest artifact or cache archive a job may upload (pods, through the runner API). */
  runnerUploadLimit: size(1024, 1024 ** 4),
  /** Where job pods reach this server's runner API; publicUrl when absent. */
  runnerUrl: url(["http:", "https:"]).optional(),
  /** Kubernetes executor: a kubeconfig file; absent means in-cluster, else the default kubeconfig. */
  kubeconfig: z.string().trim().min(1).optional(),
  kubernetesNamespace: z.string().trim().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/),
  kubernetesDefaultImage: z.string().trim().min(1),
  kubernetesHelperImage: z.string().trim().min(1),
  kubernetesImagePullSecrets: z.array(z.string().trim().min(1)),
  kubernetesImagePullTimeoutMs: wholeNumber(1_000, 86_400_000),
  kubernetesUnschedulableTimeoutMs: wholeNumber(1_000, 86_400_000),
  kubernetesKeepFailedPodsMs: wholeNumber(0, 30 * 86_400_000),
  /** ACK with virtual nodes: send job pods to the ECI virtual node (nodeSelector + toleration). */
  kubernetesVirtualNode: yesNo,
  kubernetesRunAsUser: wholeNumber(1, 2_147_483_647).optional(),
  kubernetesDefaultCpu: quantity.optional(),
  kubernetesDefaultMemory: quantity.optional(),
  /** ECI: size each pod with k8s.aliyun.com/eci-use-specs from the job's resources (other clusters ignore it). */
  eciUseSpecs: yesNo,
  eciSpotStrategy: z.enum(["SpotAsPriceGo", "SpotWithPriceLimit"]).optional(),
  eciAutoImageCache: yesNo,
  eciExtraEphemeralStorage: quantity.optional(),
  /** Where the routers of local release targets listen: 127.0.0.1, or 0.0.0.0 to serve other machines. */
  localReleaseHost: z.string().trim().min(1),
  /**
   * Alibaba Cloud AccessKey for the FC and SAE deploy providers. Absent: the SDK's default chain
   * (ALIBABA_CLOUD_* environment with an STS token, RRSA in a pod, CLI profile, ECS RAM role).
   */
  alicloudAccessKeyId: z.string().trim().min(1).optional(),
  alicloudAccessKeySecret: z.string().trim().min(1).optional(),
  /** FC 3.0 API host instead of fcv3.<region>.aliyuncs.com; `{region}` is replaced by the target's region. */
  fcEndpoint: z.string().trim().regex(/^[A-Za-z0-9.{}-]+(:\d+)?$/).optional(),
  /** SAE API host instead of sae.<region>.aliyuncs.com; `{region}` is replaced by the target's region. */
  saeEndpoint: z.string().trim().regex(/^[A-Za-z0-9.{}-]+(:\d+)?$/).optional(),
  /** "http" only for loopback stand-ins of the Alibaba Cloud APIs. */
  alicloudProtocol: z.enum(["https", "http"]),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type ConfigField = keyof ConfigInput;

/** The settings `gust serve` runs with: validated, the master key decoded, the public URL filled in. */
export interface GustConfig extends Omit<ParsedConfig, "publicUrl" | "masterKeyFile"> {
  publicUrl: string;
  /** The config file read, if any. */
  configFile?: string;
}
