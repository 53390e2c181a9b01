// Quantities, the split of a job's resources across its pod's containers, and the ECI size.
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { eciSpec } from "../../../src/executors/kubernetes/eci-annotations";
import { containerResources, resolvePodResources, splitEvenly } from "../../../src/executors/kubernetes/pod-resources";
import { buildJobPod } from "../../../src/executors/kubernetes/pod-spec";
import { formatCpu, formatMemory, parseQuantity } from "../../../src/executors/kubernetes/quantity";
import { expectValidObjects, fullInput, job, minimalInput, options, step } from "./pod-spec-fixtures";

const Gi = 1024n ** 3n;

describe("parseQuantity", () => {
  it("reads Kubernetes quantities exactly, in nano-units", () => {
    const cases: [string, bigint][] = [
      ["2", 2_000_000_000n],
      ["0.5", 500_000_000n],
      [".5", 500_000_000n],
      ["500m", 500_000_000n],
      ["1.5", 1_500_000_000n],
      ["250u", 250_000n],
      ["7n", 7n],
      ["4Gi", 4n * Gi * 1_000_000_000n],
      ["1.5Gi", 1_610_612_736n * 1_000_000_000n],
      ["512Mi", 536_870_912n * 1_000_000_000n],
      ["1Ki", 1024n * 1_000_000_000n],
      ["4k", 4000n * 1_000_000_000n],
      ["4K", 4000n * 1_000_000_000n],
      ["2M", 2_000_000n * 1_000_000_000n],
      ["1G", 1_000_000_000n * 1_000_000_000n],
      ["1e3", 1000n * 1_000_000_000n],
      ["12E-3", 12_000_000n],
    ];
    for (const [text, nano] of cases) expect(parseQuantity(text), text).toBe(nano);
  });

  it("rounds a value finer than a nano-unit up, as Kubernetes does", () => {
    expect(parseQuantity("0.5n")).toBe(1n);
  });

  it("refuses what is no quantity", () => {
    for (const text of ["", "lots", "4GB", "-1", "1.2.3", "Gi", "1 Gi", "1gi", "0x10", "1e999"]) expect(parseQuantity(text), text).toBeUndefined();
  });

  it("formats millicores and bytes the way Kubernetes writes them", () => {
    expect([0n, 250n, 1000n, 1500n, 2000n].map(formatCpu)).toEqual(["0", "250m", "1", "1500m", "2"]);
    expect([0n, 1024n, 1536n * 1024n * 1024n, 4n * Gi, 4000n, 1_000_001n].map(formatMemory)).toEqual(["0", "1Ki", "1536Mi", "4Gi", "4k", "1000001"]);
  });
});

describe("the split of a job's resources", () => {
  it("gives shares that add up to the total exactly, the remainder to the first", () => {
    expect(splitEvenly(1000n, 3)).toEqual([334n, 333n, 333n]);
    expect(splitEvenly(2n, 5)).toEqual([2n, 0n, 0n, 0n, 0n]);
    const Mi = 1024n * 1024n;
    expect(splitEvenly(4n * Gi, 7, Mi)).toEqual([586n * Mi, ...Array.from({ length: 6 }, () => 585n * Mi)]);
    expect(splitEvenly(Mi + 1n, 2, Mi)).toEqual([524_289n, 524_288n]); // not whole Mi: bytes
    for (const total of [1n, 7n, 250n, 1000n, 4n * Gi, 4n * Gi + 3n, 999_999_937n, 3n * Mi]) {
      for (let parts = 1; parts <= 20; parts++) {
        const shares = splitEvenly(total, parts, Mi);
        expect(shares).toHaveLength(parts);
        expect(shares.reduce((sum, share) => sum + share, 0n), `${total}/${parts}`).toBe(total);
        expect(shares.every((share) => share >= 0n)).toBe(true);
      }
    }
  });

  /** The pod's effective request: the sum over regular containers, or an init container's when larger. */
  function podRequest(pod: V1Pod, resource: "cpu" | "memory"): bigint {
    const request = (c: { resources?: { requests?: Record<string, string> } }): bigint => parseQuantity(c.resources?.requests?.[resource] ?? "0") ?? -1n;
    const regular = pod.spec!.containers.reduce((sum, c) => sum + request(c), 0n);
    return (pod.spec!.initContainers ?? []).reduce((most, c) => (request(c) > most ? request(c) : most), regular);
  }

  it("makes the pod request what the job asked for, every container limited to the whole of it", () => {
    const combinations: { cpu: string; memory: string; steps: number; services: number }[] = [
      { cpu: "2", memory: "4Gi", steps: 4, services: 2 },
      { cpu: "1", memory: "1Gi", steps: 3, services: 0 },
      { cpu: "250m", memory: "1.5Gi", steps: 7, services: 1 },
      { cpu: "0.1", memory: "1000001", steps: 19, services: 0 },
      { cpu: "3", memory: "4K", steps: 1, services: 0 },
    ];
    for (const { cpu, memory, steps, services } of combinations) {
      const input = minimalInput();
      input.job = job({
        resources: { cpu, memory },
        steps: Array.from({ length: steps }, (_, index) => step(index, { script: "true" })),
        services: Array.from({ length: services }, (_, index) => ({ name: `s${index}`, image: "redis:7", env: {}, ports: [6379 + index] })),
      });
      const { pod, secret } = buildJobPod(input);
      expectValidObjects(pod, secret);
      const what = JSON.stringify({ cpu, memory, steps, services });
      expect(podRequest(pod, "cpu"), what).toBe(parseQuantity(cpu));
      expect(podRequest(pod, "memory"), what).toBe(parseQuantity(memory === "4K" ? "4k" : memory));
      for (const c of [...pod.spec!.initContainers!, ...pod.spec!.containers]) {
        expect(parseQuantity(c.resources!.limits!.cpu!), c.name).toBe(parseQuantity(cpu));
        expect(parseQuantity(c.resources!.limits!.memory!), c.name).toBe(parseQuantity(memory === "4K" ? "4k" : memory));
        expect(c.resources!.requests, c.name).toHaveProperty("cpu"); // never left to default to the limit
      }
    }
  });

  it("uses the default per field, and sets no resources at all when there are none", () => {
    expect(resolvePodResources({ jobKey: "j", resources: { cpu: "2" } }, { cpu: "1", memory: "2Gi" })).toEqual({ cpuMillis: 2000n, memoryBytes: 2n * Gi });
    expect(resolvePodResources({ jobKey: "j" }, undefined)).toEqual({});
    // Rounded up to whole millicores and bytes, once, before the split.
    expect(resolvePodResources({ jobKey: "j", resources: { cpu: "0.0005", memory: "1.2Gi" } }, undefined)).toEqual({ cpuMillis: 1n, memoryBytes: 1_288_490_189n });
    expect(containerResources({}, 3)).toEqual({ regular: [undefined, undefined, undefined], init: undefined });
    const { pod } = buildJobPod(minimalInput());
    for (const c of [...pod.spec!.initContainers!, ...pod.spec!.containers]) expect(c.resources).toBeUndefined();
    const cpuOnly = buildJobPod({ ...minimalInput(), job: job({ resources: { cpu: "1" } }) }).pod;
    expect(cpuOnly.spec!.containers[0]!.resources).toEqual({ requests: { cpu: "1" }, limits: { cpu: "1" } });
  });
});

describe("eci-use-specs", () => {
  it("is the job's size rounded up to ECI's granularity, never down", () => {
    const spec = (cpu?: string, memory?: string) =>
      eciSpec(resolvePodResources({ jobKey: "j", resources: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } }, undefined));
    expect(spec("2", "4Gi")).toBe("2-4Gi");
    expect(spec("500m", "1.2Gi")).toBe("0.5-1.5Gi");
    expect(spec("100m", "100Mi")).toBe("0.25-0.5Gi");
    expect(spec("7", "13Gi")).toBe("7-13Gi");
    expect(spec("2.1", "4097Mi")).toBe("2.25-4.5Gi");
    expect(spec("1", undefined)).toBe("1-2Gi");
    expect(spec(undefined, "3Gi")).toBe("1.5-3Gi");
    expect(spec(undefined, undefined)).toBeUndefined();
  });

  it("is only written when useSpecs is on and the job has resources", () => {
    const annotations = (useSpecs: boolean, resources?: { cpu: string }) =>
      buildJobPod({ ...minimalInput(), job: job(resources ? { resources } : {}), options: options({ eci: { useSpecs, autoImageCache: false } }) }).pod.metadata!.annotations!;
    expect(annotations(true, { cpu: "4" })["k8s.aliyun.com/eci-use-specs"]).toBe("4-8Gi");
    expect(annotations(false, { cpu: "4" })["k8s.aliyun.com/eci-use-specs"]).toBeUndefined();
    expect(annotations(true)["k8s.aliyun.com/eci-use-specs"]).toBeUndefined();
    expect(buildJobPod(fullInput()).pod.metadata!.annotations!["k8s.aliyun.com/eci-use-specs"]).toBe("2-4Gi");
  });
});
