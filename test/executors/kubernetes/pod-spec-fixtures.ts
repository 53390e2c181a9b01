// Jobs and options the pod-spec tests build pods from, plus the checks every produced pod must pass
// (the Kubernetes schema through kubernetes-models, and the name rules the schema does not check).
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { Pod } from "kubernetes-models/v1/Pod";
import { Secret } from "kubernetes-models/v1/Secret";
import { expect } from "vitest";
import type { JobRun, StepRun } from "../../../src/executors/executor";
import { isDnsLabel, isLabelValue } from "../../../src/executors/kubernetes/pod-names";
import { DEFAULT_POD_OPTIONS, type KubernetesPodOptions } from "../../../src/executors/kubernetes/pod-options";
import type { JobPodInput } from "../../../src/executors/kubernetes/pod-spec";

export const SECRET_VALUES = { NPM_TOKEN: "npm_S3cr3tValue-xyzzy", DB_PASSWORD: "pa$$w0rd with spaces" };
export const RUNNER_TOKEN = "runner-token-Q7ZxPlugh";
export const CLONE_PASSWORD = "ghs_clonetokenFROBOZZ";

export function options(overrides: Partial<KubernetesPodOptions> = {}): KubernetesPodOptions {
  return {
    ...DEFAULT_POD_OPTIONS,
    namespace: "gust-jobs",
    defaultImage: "debian:bookworm-slim",
    helperImage: "registry.example.com/gust/helper:1.0.0",
    ...overrides,
  };
}

export function step(index: number, partial: Partial<StepRun> & { script: string }): StepRun {
  return { index, name: `step ${index}`, env: {}, continueOnError: false, when: { onSuccess: true, onFailure: false }, ...partial };
}

export function job(partial: Partial<JobRun> = {}): JobRun {
  return {
    runId: "run-42-test-1",
    pipelineRunId: "42",
    pipelineName: "ci",
    jobKey: "test",
    jobName: "test",
    attempt: 1,
    steps: [step(0, { name: "hello", script: "echo hello" })],
    env: {},
    secrets: {},
    commit: { sha: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main", branch: "main" },
    workspace: { kind: "git", repository: "https://github.com/acme/app.git", commit: "0123456789abcdef0123456789abcdef01234567" },
    services: [],
    artifactsFrom: [],
    ...partial,
  };
}

export function minimalInput(): JobPodInput {
  return {
    job: job(),
    options: options(),
    runner: { url: "http://10.88.0.1:8080", token: RUNNER_TOKEN },
    source: { kind: "git", url: "https://github.com/acme/app.git", commit: "0123456789abcdef0123456789abcdef01234567", ref: "refs/heads/main", depth: 1, submodules: false },
  };
}

/** Services, artifacts, cache, secrets, resources, ECI and scheduling options, all at once. */
export function fullInput(): JobPodInput {
  const run = job({
    runId: "7f3c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f-Test_Node 20/linux-2",
    pipelineRunId: "7f3c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f",
    pipelineName: "web app",
    jobKey: "test-node-20",
    jobName: "test (node: 20)",
    attempt: 2,
    image: "node:20-bookworm",
    timeoutMs: 30 * 60_000,
    env: { NODE_ENV: "test", SHARED: "job", PRICE: "$(HOME) costs $5" },
    secrets: { ...SECRET_VALUES },
    resources: { cpu: "2", memory: "4Gi" },
    services: [
      { name: "postgres", image: "postgres:16", env: { POSTGRES_PASSWORD: "postgres" }, ports: [5432] },
      { name: "redis", image: "redis:7", env: {}, ports: [6379] },
    ],
    steps: [
      step(0, { name: "install", script: "npm ci", env: { SHARED: "step" } }),
      step(1, { name: "lint", script: "npm run lint", continueOnError: true, timeoutMs: 120_000, image: "node:20-alpine" }),
      step(2, { name: "test", script: "npm test", workingDirectory: "packages/web/" }),
      step(3, { name: "report", script: "cat report.txt", when: { onSuccess: true, onFailure: true } }),
    ],
    artifacts: { paths: ["dist/**", "coverage/lcov.info"], expireInMs: 7 * 86_400_000 },
    artifactsFrom: ["build"],
    cache: { key: ["npm-", { hashFiles: ["package-lock.json"] }], restoreKeys: ["npm-"], paths: ["node_modules"] },
  });
  return {
    job: run,
    options: options({
      imagePullPolicy: "IfNotPresent",
      imagePullSecrets: ["registry-credentials"],
      serviceAccountName: "gust-job",
      nodeSelector: { type: "virtual-kubelet" },
      tolerations: [{ key: "virtual-kubelet.io/provider", operator: "Equal", value: "alibabacloud", effect: "NoSchedule" }],
      podLabels: { "alibabacloud.com/eci": "true" },
      podAnnotations: { "example.com/team": "platform" },
      runAsUser: 1000,
      runAsNonRoot: true,
      eci: {
        useSpecs: true,
        spotStrategy: "SpotWithPriceLimit",
        spotPriceLimit: "0.25",
        spotFallback: true,
        autoImageCache: true,
        extraEphemeralStorage: "50Gi",
        ramRoleName: "gust-ci",
        maxPendingMinutes: 10,
      },
    }),
    runner: { url: "http://gust.gust-system.svc:8080", token: RUNNER_TOKEN },
    source: {
      kind: "git",
      url: "https://github.com/acme/app.git",
      commit: "0123456789abcdef0123456789abcdef01234567",
      ref: "refs/heads/main",
      depth: 1,
      submodules: true,
      auth: { username: "x-access-token", password: CLONE_PASSWORD },
    },
    repository: "acme/app",
    pipelineId: 1234,
    jobId: 98765,
  };
}

export function archiveInput(): JobPodInput {
  return {
    job: job({
      runId: "run-7-build-1",
      pipelineRunId: "7",
      jobKey: "build",
      jobName: "build",
      workspace: { kind: "directory", path: "/home/dev/project" },
      steps: [step(0, { script: "make" }), step(1, { script: "make check", workingDirectory: "../.." })],
      artifacts: { paths: ["build/*.tar.gz"] },
    }),
    options: options({ defaultResources: { cpu: "500m", memory: "1Gi" } }),
    runner: { url: "http://10.88.0.1:8080", token: RUNNER_TOKEN },
    source: { kind: "archive" },
    repository: "/home/dev/project",
  };
}

/** The Secret's data decoded (runner.json parsed), for reading and asserting. */
export function decodedSecret(secret: V1Secret): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    const text = Buffer.from(value, "base64").toString("utf8");
    decoded[key] = key === "runner.json" ? JSON.parse(text) : text;
  }
  return decoded;
}

/** The Kubernetes schema (kubernetes-models) plus the name and label rules it leaves out. */
export function expectValidObjects(pod: V1Pod, secret: V1Secret): void {
  new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate();
  new Secret(secret as ConstructorParameters<typeof Secret>[0]).validate();
  expect(isDnsLabel(pod.metadata?.name ?? "")).toBe(true);
  expect(secret.metadata?.name).toBe(pod.metadata?.name);
  const spec = pod.spec!;
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  for (const container of containers) expect(isDnsLabel(container.name), container.name).toBe(true);
  expect(new Set(containers.map((container) => container.name)).size).toBe(containers.length);
  for (const [key, value] of Object.entries(pod.metadata?.labels ?? {})) expect(isLabelValue(value), `${key}=${value}`).toBe(true);
  for (const key of Object.keys(secret.data ?? {})) expect(key).toMatch(/^[-._a-zA-Z0-9]+$/);
}
