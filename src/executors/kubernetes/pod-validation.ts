// What about a job cannot become a pod, said before anything is created, naming the job and the
// field: too many containers for ECI, service names that are no container names, clashing ports,
// env names Kubernetes refuses, a step without an image.
import { GustError, InputError } from "../../errors";
import type { JobRun } from "../executor";
import { isDnsLabel, serviceContainerName } from "./pod-names";

/** ECI runs at most 20 containers per pod; a plain cluster has no such limit, but one pod spec serves both. */
export const MAX_CONTAINERS = 20;

// Kubernetes' rule for env names before 1.34 (later versions accept more, older ones refuse it).
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// Secret values are Secret keys `env.<NAME>` ([-._a-zA-Z0-9]+) and env names at once.
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether the pod needs gust-finish: something to do after the last step. */
export function needsFinish(job: JobRun): boolean {
  return job.artifacts !== undefined || job.cache !== undefined || job.services.length > 0;
}

/** Throws InputError for the first thing in `job` that cannot be a pod (GustError for a malformed JobRun). */
export function validateJobForPod(job: JobRun, defaultImage: string): void {
  const where = `job "${job.jobKey}"`;
  if (job.steps.length === 0) throw new InputError(`${where} has no steps`, "invalid_pod_spec");
  job.steps.forEach((step, position) => {
    // The hand-off chain and lastStep in runner.json rely on steps numbered 0, 1, … in order.
    if (step.index !== position) {
      throw new GustError(`${where}: step at position ${position} has index ${step.index}`, {
        fault: "internal",
        retryable: false,
        code: "invalid_job_run",
      });
    }
  });

  const containers = job.services.length + job.steps.length + (needsFinish(job) ? 1 : 0);
  if (containers > MAX_CONTAINERS) {
    const parts = [`${job.steps.length} step${job.steps.length === 1 ? "" : "s"}`];
    if (job.services.length > 0) parts.push(`${job.services.length} service${job.services.length === 1 ? "" : "s"}`);
    if (needsFinish(job)) parts.push("the gust-finish container (artifacts, cache or services)");
    throw new InputError(
      `${where} needs ${containers} containers (${parts.join(", ")}), but a pod holds at most ${MAX_CONTAINERS} ` +
        "(the ECI limit): merge steps or move some into another job",
      "too_many_containers",
    );
  }

  checkEnvNames(job.env, `${where}: env`);
  for (const name of Object.keys(job.secrets)) {
    if (!SECRET_NAME.test(name)) {
      throw new InputError(`${where}: secret name ${JSON.stringify(name)} must be letters, digits and '_', not starting with a digit`, "invalid_pod_spec");
    }
  }
  for (const step of job.steps) {
    checkEnvNames(step.env, `${where}: steps[${step.index}].env`);
    const image = step.image ?? job.image ?? defaultImage;
    if (image.trim() === "") throw new InputError(`${where}: steps[${step.index}] has no image (and no default image is configured)`, "invalid_pod_spec");
  }

  const names = new Set<string>();
  const ports = new Map<number, string>();
  for (const service of job.services) {
    const field = `${where}: services.${service.name}`;
    if (!isDnsLabel(service.name) || !isDnsLabel(serviceContainerName(service.name))) {
      throw new InputError(
        `${field}: a service name must be a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${63 - serviceContainerName("").length} characters)`,
        "invalid_service_name",
      );
    }
    if (names.has(service.name)) throw new InputError(`${field}: two services have this name`, "invalid_service_name");
    names.add(service.name);
    if (service.image.trim() === "") throw new InputError(`${field}.image is empty`, "invalid_pod_spec");
    checkEnvNames(service.env, `${field}.env`);
    for (const port of service.ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`${field}.ports: ${port} is not a port (1 to 65535)`, "invalid_pod_spec");
      const other = ports.get(port);
      // The containers of a pod share one network namespace: the second would fail to bind.
      if (other !== undefined) throw new InputError(`${field}.ports: ${port} is also a port of service "${other}"; containers in one pod share their ports`, "invalid_pod_spec");
      ports.set(port, service.name);
    }
  }
}

function checkEnvNames(env: Record<string, string>, field: string): void {
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name)) throw new InputError(`${field}: ${JSON.stringify(name)} is not a valid environment variable name`, "invalid_pod_spec");
  }
}
