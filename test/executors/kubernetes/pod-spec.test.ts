// The pod and Secret of a job, compared with golden files (UPDATE_GOLDEN=1 rewrites them) and
// checked against the Kubernetes schema and the protocol's rules.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { Pod } from "kubernetes-models/v1/Pod";
import { describe, expect, it } from "vitest";
import { InputError } from "../../../src/errors";
import { buildJobPod, secretOwnerPatch, type JobPodInput } from "../../../src/executors/kubernetes/pod-spec";
import {
  archiveInput,
  CLONE_PASSWORD,
  decodedSecret,
  expectValidObjects,
  fullInput,
  job,
  minimalInput,
  options,
  RUNNER_TOKEN,
  SECRET_VALUES,
  step,
} from "./pod-spec-fixtures";

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function expectGolden(name: string, input: JobPodInput): void {
  const { pod, secret } = buildJobPod(input);
  const secretForReading = { ...secret, data: decodedSecret(secret) };
  const text = `${JSON.stringify(sortKeys({ pod, "secret (data decoded from base64)": secretForReading }), null, 2)}\n`;
  const file = path.join(GOLDEN, `${name}.json`);
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1 to write it`);
  expect(text).toBe(readFileSync(file, "utf8"));
}

function container(pod: V1Pod, name: string): V1Container {
  const found = pod.spec!.containers.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function envOf(c: V1Container): Record<string, unknown> {
  return Object.fromEntries((c.env ?? []).map((entry) => [entry.name, entry.valueFrom ?? entry.value]));
}

describe("buildJobPod golden files", () => {
  it("a minimal job", () => expectGolden("minimal", minimalInput()));
  it("services, artifacts, cache, secrets, resources and ECI options", () => expectGolden("full", fullInput()));
  it("a local (archive) source", () => expectGolden("archive", archiveInput()));
});

describe("buildJobPod", () => {
  const inputs = { minimal: minimalInput(), full: fullInput(), archive: archiveInput() };

  it("produces a Pod and a Secret the Kubernetes schema accepts", () => {
    for (const input of Object.values(inputs)) {
      const { pod, secret } = buildJobPod(input);
      expectValidObjects(pod, secret);
    }
  });

  it("is checked by a validator that does reject a broken pod", () => {
    const { pod } = buildJobPod(minimalInput());
    const broken = structuredClone(pod);
    broken.spec!.containers[0]!.resources = { requests: { cpu: "lots" } };
    expect(() => new Pod(broken as ConstructorParameters<typeof Pod>[0]).validate()).toThrow(/quantity/);
    const nameless = structuredClone(pod) as { spec: { containers: unknown[] } };
    nameless.spec.containers = [{ image: "busybox" }];
    expect(() => new Pod(nameless as ConstructorParameters<typeof Pod>[0]).validate()).toThrow(/name/);
  });

  it("never puts a secret value, the runner token or the clone password into the pod", () => {
    const { pod, secret } = buildJobPod(fullInput());
    const podJson = JSON.stringify(pod);
    for (const value of [...Object.values(SECRET_VALUES), RUNNER_TOKEN, CLONE_PASSWORD]) {
      expect(podJson).not.toContain(value);
      expect(podJson).not.toContain(Buffer.from(value).toString("base64"));
    }
    const data = decodedSecret(secret);
    expect(data["env.NPM_TOKEN"]).toBe(SECRET_VALUES.NPM_TOKEN);
    expect(data["env.DB_PASSWORD"]).toBe(SECRET_VALUES.DB_PASSWORD);
    expect(data["runner.json"]).toMatchObject({ token: RUNNER_TOKEN, source: { auth: { password: CLONE_PASSWORD } } });
    // Secrets reach the steps by reference to the job's own Secret.
    expect(envOf(container(pod, "step-0")).NPM_TOKEN).toEqual({ secretKeyRef: { name: pod.metadata!.name, key: "env.NPM_TOKEN" } });
  });

  it("lays out init, services, steps and finish as the protocol says", () => {
    const { pod, secret } = buildJobPod(fullInput());
    const spec = pod.spec!;
    expect(spec.initContainers!.map((c) => c.name)).toEqual(["gust-prepare"]);
    expect(spec.containers.map((c) => c.name)).toEqual(["service-postgres", "service-redis", "step-0", "step-1", "step-2", "step-3", "gust-finish"]);
    expect(spec.shareProcessNamespace).toBe(true);
    expect(container(pod, "step-0").command).toEqual(["/gust/bin/busybox", "sh", "/gust/bin/gust-step"]);
    expect(container(pod, "step-0").image).toBe("node:20-bookworm");
    expect(container(pod, "step-1").image).toBe("node:20-alpine");
    expect(container(pod, "gust-finish").securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["KILL"] } });
    expect(container(pod, "service-postgres").securityContext).toEqual({ allowPrivilegeEscalation: false });
    expect(container(pod, "service-postgres").command).toBeUndefined();
    expect(decodedSecret(secret)["runner.json"]).toMatchObject({ stopServices: true, lastStep: 3, artifacts: { paths: ["dist/**", "coverage/lcov.info"] } });
    expect(Object.keys(decodedSecret(secret)).sort()).toEqual(["env.DB_PASSWORD", "env.NPM_TOKEN", "runner.json", "step-0.sh", "step-1.sh", "step-2.sh", "step-3.sh"]);
  });

  it("has no finish container and no shared process namespace when there is nothing to finish", () => {
    const { pod, secret } = buildJobPod(minimalInput());
    expect(pod.spec!.containers.map((c) => c.name)).toEqual(["step-0"]);
    expect(pod.spec!.shareProcessNamespace).toBeUndefined();
    expect(decodedSecret(secret)["runner.json"]).toMatchObject({ stopServices: false, lastStep: 0, artifacts: null, cache: null });
  });

  it("layers context < job env < step env < secrets < protocol variables, and keeps values literal", () => {
    const input = fullInput();
    input.job.env.GUST_STEP_INDEX = "user value loses";
    const { pod } = buildJobPod(input);
    const first = envOf(container(pod, "step-0"));
    expect(first).toMatchObject({
      CI: "true",
      GUST_EXECUTOR: "kubernetes",
      GUST_JOB_NAME: "test (node: 20)",
      GUST_STEP: "install",
      SHARED: "step",
      NODE_ENV: "test",
      PRICE: "$$(HOME) costs $$5", // the kubelet turns $$ back into $ and expands nothing
      GUST_STEP_INDEX: "0",
      GUST_STEP_SCRIPT: "/gust-job/step-0.sh",
      GUST_STEP_WORKDIR: "/workspace",
      GUST_STEP_TIMEOUT_MS: "0",
      GUST_STEP_CONTINUE_ON_ERROR: "0",
      GUST_STEP_ON_SUCCESS: "1",
      GUST_STEP_ON_FAILURE: "0",
      GUST_SERVICE_PORTS: "5432 6379",
    });
    expect(container(pod, "step-0").env!.filter((entry) => entry.name === "SHARED")).toHaveLength(1);
    const second = envOf(container(pod, "step-1"));
    expect(second).toMatchObject({ SHARED: "job", GUST_STEP_TIMEOUT_MS: "120000", GUST_STEP_CONTINUE_ON_ERROR: "1" });
    expect(second.GUST_SERVICE_PORTS).toBeUndefined();
    expect(envOf(container(pod, "step-2")).GUST_STEP_WORKDIR).toBe("/workspace/packages/web");
    expect(envOf(container(pod, "step-3"))).toMatchObject({ GUST_STEP_ON_SUCCESS: "1", GUST_STEP_ON_FAILURE: "1" });
  });

  it("runs a step whose working directory leaves the workspace as a failing script that says why", () => {
    const { pod, secret } = buildJobPod(archiveInput());
    expect(envOf(container(pod, "step-1")).GUST_STEP_WORKDIR).toBe("/workspace");
    const script = decodedSecret(secret)["step-1.sh"];
    expect(script).toContain('working directory "../.." is outside the workspace');
    expect(script).toMatch(/exit 1\n$/);
    expect(decodedSecret(secret)["step-0.sh"]).toBe("make");
  });

  it("secures the pod: no token, no service links, seccomp, no privilege escalation, deadline", () => {
    const { pod } = buildJobPod(fullInput());
    const spec = pod.spec!;
    expect(spec).toMatchObject({
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      activeDeadlineSeconds: (30 * 60_000 + 10 * 60_000) / 1000,
      securityContext: { seccompProfile: { type: "RuntimeDefault" }, runAsNonRoot: true, runAsUser: 1000 },
      serviceAccountName: "gust-job",
      imagePullSecrets: [{ name: "registry-credentials" }],
    });
    for (const c of [...spec.initContainers!, ...spec.containers]) {
      expect(c.securityContext?.allowPrivilegeEscalation, c.name).toBe(false);
      if (c.name.startsWith("step-")) {
        expect(c.securityContext?.capabilities).toEqual({ drop: ["ALL"] });
        expect(c.terminationMessagePolicy).toBe("File");
      }
    }
    const minimal = buildJobPod(minimalInput()).pod.spec!;
    expect(minimal.activeDeadlineSeconds).toBeUndefined();
    expect(minimal.securityContext).toEqual({ seccompProfile: { type: "RuntimeDefault" } });
    const rounded = buildJobPod({ ...minimalInput(), job: job({ timeoutMs: 1_500 }), options: options({ startupAllowanceMs: 0 }) });
    expect(rounded.pod.spec!.activeDeadlineSeconds).toBe(2);
  });

  it("labels with valid values and annotates with the exact ones", () => {
    const { pod, secret } = buildJobPod(fullInput());
    expect(pod.metadata!.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "gust",
      "alibabacloud.com/eci": "true",
      "gust.dev/job": "test-node-20",
      "gust.dev/attempt": "2",
      "gust.dev/repository": "acme-app",
      "gust.dev/pipeline-id": "1234",
      "gust.dev/job-id": "98765",
    });
    expect(pod.metadata!.labels!["gust.dev/run-id"]).not.toBe(fullInput().job.runId); // has a space and a slash
    expect(pod.metadata!.annotations).toMatchObject({
      "gust.dev/run-id": fullInput().job.runId,
      "gust.dev/job-name": "test (node: 20)",
      "gust.dev/repository": "acme/app",
      "gust.dev/pipeline-run-id": fullInput().job.pipelineRunId,
      "gust.dev/commit": "0123456789abcdef0123456789abcdef01234567",
      "example.com/team": "platform",
    });
    expect(secret.metadata!.labels).toEqual(pod.metadata!.labels);
    expect(secret.type).toBe("Opaque");
    expect(buildJobPod(minimalInput()).pod.metadata!.labels!["gust.dev/run-id"]).toBe("run-42-test-1");
  });

  it("writes the ECI annotations that are configured, and no others", () => {
    expect(buildJobPod(fullInput()).pod.metadata!.annotations).toMatchObject({
      "k8s.aliyun.com/eci-use-specs": "2-4Gi",
      "k8s.aliyun.com/eci-spot-strategy": "SpotWithPriceLimit",
      "k8s.aliyun.com/eci-spot-price-limit": "0.25",
      "k8s.aliyun.com/eci-spot-fallback": "true",
      "k8s.aliyun.com/eci-auto-imc": "true",
      "k8s.aliyun.com/eci-extra-ephemeral-storage": "50Gi",
      "k8s.aliyun.com/eci-ram-role-name": "gust-ci",
      "k8s.aliyun.com/eci-max-pending-minute": "10",
    });
    const plain = buildJobPod(minimalInput()).pod.metadata!.annotations!;
    expect(Object.keys(plain).filter((key) => key.startsWith("k8s.aliyun.com/"))).toEqual([]);
    const cached = buildJobPod({ ...minimalInput(), options: options({ eci: { useSpecs: false, autoImageCache: false, imageCacheId: "imc-123" } }) });
    expect(Object.entries(cached.pod.metadata!.annotations!).filter(([key]) => key.startsWith("k8s.aliyun.com/"))).toEqual([["k8s.aliyun.com/eci-imc-id", "imc-123"]]);
  });

  it("makes the Secret owned by the pod through a merge patch", () => {
    expect(secretOwnerPatch({ name: "gust-x-123", uid: "u-1" })).toEqual({
      metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "gust-x-123", uid: "u-1" }] },
    });
  });
});

describe("buildJobPod refuses what cannot be a pod", () => {
  const many = (count: number) => Array.from({ length: count }, (_, index) => step(index, { script: `echo ${index}` }));

  it("more than 20 containers, counting steps, services and gust-finish", () => {
    expect(() => buildJobPod({ ...minimalInput(), job: job({ steps: many(20) }) })).not.toThrow();
    const services = [{ name: "db", image: "postgres:16", env: {}, ports: [5432] }];
    const call = () => buildJobPod({ ...minimalInput(), job: job({ steps: many(19), services }) });
    expect(call).toThrow(InputError);
    expect(call).toThrow('job "test" needs 21 containers (19 steps, 1 service, the gust-finish container (artifacts, cache or services)), but a pod holds at most 20');
  });

  it("service names that are not DNS labels, and clashing ports", () => {
    const service = (name: string, port = 5432) => ({ name, image: "postgres:16", env: {}, ports: [port] });
    for (const name of ["My_DB", "db_1", "-db", "x".repeat(56)]) {
      expect(() => buildJobPod({ ...minimalInput(), job: job({ services: [service(name)] }) }), name).toThrow(/services\..*DNS label/);
    }
    expect(() => buildJobPod({ ...minimalInput(), job: job({ services: [service("a".repeat(55))] }) })).not.toThrow();
    expect(() => buildJobPod({ ...minimalInput(), job: job({ services: [service("a"), service("b")] }) })).toThrow(/5432 is also a port of service "a"/);
  });

  it("bad resource quantities, naming the field", () => {
    const bad = (resources: { cpu?: string; memory?: string }) => () => buildJobPod({ ...minimalInput(), job: job({ resources }) });
    expect(bad({ cpu: "lots" })).toThrow('job "test": resources.cpu "lots" is not a Kubernetes quantity');
    expect(bad({ memory: "4GB" })).toThrow('job "test": resources.memory "4GB" is not a Kubernetes quantity');
    expect(bad({ memory: "0" })).toThrow("must be more than 0");
    expect(() => buildJobPod({ ...minimalInput(), options: options({ defaultResources: { cpu: "x" } }) })).toThrow('the default resources.cpu "x"');
  });

  it("scripts and secrets too large for a Secret", () => {
    const big = "x".repeat(600 * 1024);
    expect(() => buildJobPod({ ...minimalInput(), job: job({ steps: [step(0, { script: big })], secrets: { BIG: big } }) })).toThrow(/more than the 1048576 a Kubernetes Secret holds/);
  });

  it("secret names that cannot be Secret keys", () => {
    expect(() => buildJobPod({ ...minimalInput(), job: job({ secrets: { "NOT/VALID": "x" } }) })).toThrow(/secret name "NOT\/VALID"/);
  });
});
