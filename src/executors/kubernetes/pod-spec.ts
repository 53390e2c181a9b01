// The pod that runs one job, and the Secret it reads, built from the JobRun alone (no API calls).
// The layout is the pod protocol's (see pod-protocol.ts): gust-prepare fills the workspace, one
// container per step runs in order through the step entrypoint, services run beside the steps, and
// gust-finish publishes artifacts, saves the cache and stops the services. Secret values, the
// runner token and clone credentials live only in the Secret.
import type { V1Capabilities, V1Container, V1Pod, V1Secret, V1SecurityContext, V1VolumeMount } from "@kubernetes/client-node";
import { InputError } from "../../errors";
import type { JobRun } from "../executor";
import { eciAnnotations } from "./eci-annotations";
import type { PodSource } from "./job-source";
import { literalEnv, stepEnv, stepWorkdir } from "./pod-env";
import {
  ANNOTATIONS,
  exactLabelValue,
  FINISH_CONTAINER,
  LABELS,
  labelValue,
  MANAGED_BY,
  podNameFor,
  PREPARE_CONTAINER,
  serviceContainerName,
  stepContainerName,
} from "./pod-names";
import type { KubernetesPodOptions } from "./pod-options";
import {
  FINISH_COMMAND,
  JOB_PATH,
  JOB_VOLUME,
  JOB_VOLUME_MODE,
  PREPARE_COMMAND,
  RUNNER_CONFIG_KEY,
  RUNNER_CONFIG_PATH,
  secretEnvKey,
  STEP_COMMAND,
  stepScriptKey,
  TERMINATION_LOG,
  TOOLS_PATH,
  TOOLS_VOLUME,
  WORKSPACE_PATH,
  WORKSPACE_VOLUME,
} from "./pod-protocol";
import { containerResources, resolvePodResources } from "./pod-resources";
import { needsFinish, validateJobForPod } from "./pod-validation";
import { runnerConfigFor } from "./runner-config";

/** Kubernetes refuses a Secret whose values add up to more than 1 MiB. */
const MAX_SECRET_BYTES = 1024 * 1024;

export interface JobPodInput {
  job: JobRun;
  options: KubernetesPodOptions;
  /** Gust's runner API as the pod reaches it, and the job's short-lived token for it. */
  runner: { url: string; token: string };
  source: PodSource;
  /** For display and labels, e.g. `acme/app`. */
  repository?: string;
  pipelineId?: number;
  jobId?: number;
}

/** Throws InputError when the job cannot be a pod (see pod-validation.ts). */
export function buildJobPod(input: JobPodInput): { pod: V1Pod; secret: V1Secret } {
  const { job, options } = input;
  validateJobForPod(job, options.defaultImage);
  const name = podNameFor(job.runId);
  const labels = podLabels(input);
  const resources = resolvePodResources(job, options.defaultResources);
  const finish = needsFinish(job);
  const regularCount = job.services.length + job.steps.length + (finish ? 1 : 0);
  const shares = containerResources(resources, regularCount);
  let nextShare = 0;
  const withShare = (container: V1Container): V1Container => {
    const share = shares.regular[nextShare++];
    return share ? { ...container, resources: share } : container;
  };
  const pullPolicy = options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {};

  const services = job.services.map((service) =>
    withShare({
      name: serviceContainerName(service.name),
      image: service.image,
      ...pullPolicy,
      ...(service.ports.length > 0 ? { ports: service.ports.map((port) => ({ containerPort: port, protocol: "TCP" })) } : {}),
      ...(Object.keys(service.env).length > 0 ? { env: literalEnv(service.env) } : {}),
      // Database images start as root and switch users with setuid: no capabilities dropped.
      securityContext: { allowPrivilegeEscalation: false },
    }),
  );

  const servicePorts = job.services.flatMap((service) => service.ports);
  const scripts: Record<string, string> = {};
  const steps = job.steps.map((step, index) => {
    const workdir = stepWorkdir(step.workingDirectory);
    scripts[stepScriptKey(index)] = workdir === undefined ? refusal(step.workingDirectory ?? "") : step.script;
    return withShare({
      name: stepContainerName(index),
      image: step.image ?? job.image ?? options.defaultImage,
      ...pullPolicy,
      command: [...STEP_COMMAND],
      workingDir: WORKSPACE_PATH,
      env: stepEnv({ job, step, index, secretName: name, workdir: workdir ?? WORKSPACE_PATH, servicePorts }),
      volumeMounts: mounts(),
      terminationMessagePath: TERMINATION_LOG,
      terminationMessagePolicy: "File",
      securityContext: restricted(),
    });
  });

  const helper = (containerName: string, command: string[], capabilities?: V1Capabilities): V1Container => ({
    name: containerName,
    image: options.helperImage,
    ...pullPolicy,
    command,
    env: [{ name: "GUST_RUNNER_CONFIG", value: RUNNER_CONFIG_PATH }],
    volumeMounts: mounts(),
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: "File",
    securityContext: restricted(capabilities),
  });
  const prepare = helper(PREPARE_CONTAINER, [...PREPARE_COMMAND]);
  if (shares.init) prepare.resources = shares.init;
  // Stopping the services means signalling processes of other users: that takes CAP_KILL.
  const finishContainers = finish
    ? [withShare(helper(FINISH_CONTAINER, [...FINISH_COMMAND], job.services.length > 0 ? { drop: ["ALL"], add: ["KILL"] } : undefined))]
    : [];

  const securityContext = {
    seccompProfile: { type: "RuntimeDefault" },
    ...(options.runAsNonRoot ? { runAsNonRoot: true } : {}),
    ...(options.runAsUser !== undefined ? { runAsUser: options.runAsUser } : {}),
  };
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: options.namespace,
      labels,
      annotations: {
        ...options.podAnnotations,
        ...eciAnnotations(options.eci, resources),
        ...exactAnnotations(input),
      },
    },
    spec: {
      restartPolicy: "Never",
      ...(job.timeoutMs !== undefined ? { activeDeadlineSeconds: Math.ceil((job.timeoutMs + options.startupAllowanceMs) / 1000) } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      // gust-finish stops the services by signalling every process it can see.
      ...(job.services.length > 0 ? { shareProcessNamespace: true } : {}),
      ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
      ...(options.imagePullSecrets.length > 0 ? { imagePullSecrets: options.imagePullSecrets.map((secret) => ({ name: secret })) } : {}),
      ...(Object.keys(options.nodeSelector).length > 0 ? { nodeSelector: { ...options.nodeSelector } } : {}),
      ...(options.tolerations.length > 0 ? { tolerations: options.tolerations.map((toleration) => ({ ...toleration })) } : {}),
      securityContext,
      initContainers: [prepare],
      containers: [...services, ...steps, ...finishContainers],
      volumes: [
        { name: TOOLS_VOLUME, emptyDir: {} },
        { name: WORKSPACE_VOLUME, emptyDir: {} },
        { name: JOB_VOLUME, secret: { secretName: name, defaultMode: JOB_VOLUME_MODE } },
      ],
    },
  };

  const data: Record<string, string> = { ...scripts };
  data[RUNNER_CONFIG_KEY] = JSON.stringify(runnerConfigFor(job, input.runner, input.source));
  for (const [secretName, value] of Object.entries(job.secrets)) data[secretEnvKey(secretName)] = value;
  const size = Object.values(data).reduce((sum, value) => sum + Buffer.byteLength(value, "utf8"), 0);
  if (size > MAX_SECRET_BYTES) {
    throw new InputError(
      `job "${job.jobKey}": its step scripts, secrets and runner config come to ${size} bytes, more than the ${MAX_SECRET_BYTES} a Kubernetes Secret holds`,
      "invalid_pod_spec",
    );
  }
  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: options.namespace, labels: { ...labels } },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, "utf8").toString("base64")])),
  };
  return { pod, secret };
}

/**
 * The JSON merge patch that makes the pod own its Secret, so Kubernetes deletes the Secret with
 * the pod. Added after creation because it needs the pod's uid. No blockOwnerDeletion: setting it
 * needs permission on the pod's finalizers, and nothing has to wait for the Secret.
 */
export function secretOwnerPatch(pod: { name: string; uid: string }): { metadata: { ownerReferences: object[] } } {
  return { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }] } };
}

function podLabels(input: JobPodInput): Record<string, string> {
  const { job, options } = input;
  return {
    ...options.podLabels,
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.component]: "job",
    [LABELS.runId]: exactLabelValue(job.runId),
    [LABELS.pipelineRunId]: labelValue(job.pipelineRunId),
    [LABELS.job]: labelValue(job.jobKey),
    [LABELS.attempt]: String(job.attempt),
    ...(input.repository !== undefined ? { [LABELS.repository]: labelValue(input.repository) } : {}),
    ...(input.pipelineId !== undefined ? { [LABELS.pipelineId]: String(input.pipelineId) } : {}),
    ...(input.jobId !== undefined ? { [LABELS.jobId]: String(input.jobId) } : {}),
  };
}

function exactAnnotations(input: JobPodInput): Record<string, string> {
  const { job } = input;
  return {
    [ANNOTATIONS.runId]: job.runId,
    [ANNOTATIONS.pipelineRunId]: job.pipelineRunId,
    [ANNOTATIONS.pipeline]: job.pipelineName,
    [ANNOTATIONS.jobKey]: job.jobKey,
    [ANNOTATIONS.jobName]: job.jobName,
    [ANNOTATIONS.commit]: job.commit.sha,
    ...(input.repository !== undefined ? { [ANNOTATIONS.repository]: input.repository } : {}),
  };
}

function mounts(): V1VolumeMount[] {
  return [
    { name: TOOLS_VOLUME, mountPath: TOOLS_PATH },
    { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_PATH },
    { name: JOB_VOLUME, mountPath: JOB_PATH, readOnly: true },
  ];
}

function restricted(capabilities: V1Capabilities = { drop: ["ALL"] }): V1SecurityContext {
  return { allowPrivilegeEscalation: false, capabilities };
}

/**
 * The script run instead of a step whose working directory leaves the workspace: the step fails
 * with the reason on stderr, as with the local executor, and the job goes on by the usual rules.
 */
function refusal(workingDirectory: string): string {
  const message = `gust: working directory ${JSON.stringify(workingDirectory)} is outside the workspace`;
  return `echo '${message.replaceAll("'", "'\\''")}' >&2\nexit 1\n`;
}
