// Names Kubernetes holds Gust's pods by: the pod (and its Secret) name, container names, label keys
// and label values. Run ids, job keys and repository names are free text; Kubernetes names and label
// values are not, so each is sanitized, and where two inputs must never meet (a pod name, the run-id
// label the executor selects by) a hash of the exact input is appended.
import { createHash } from "node:crypto";

export const LABELS = {
  managedBy: "app.kubernetes.io/managed-by",
  component: "app.kubernetes.io/component",
  runId: "gust.dev/run-id",
  pipelineRunId: "gust.dev/pipeline-run-id",
  pipelineId: "gust.dev/pipeline-id",
  jobId: "gust.dev/job-id",
  job: "gust.dev/job",
  attempt: "gust.dev/attempt",
  repository: "gust.dev/repository",
} as const;

/** Exact, unsanitized values (annotations have no charset or length limit worth the name). */
export const ANNOTATIONS = {
  runId: "gust.dev/run-id",
  pipelineRunId: "gust.dev/pipeline-run-id",
  pipeline: "gust.dev/pipeline",
  jobKey: "gust.dev/job-key",
  jobName: "gust.dev/job-name",
  repository: "gust.dev/repository",
  commit: "gust.dev/commit",
} as const;

export const MANAGED_BY = "gust";

export const PREPARE_CONTAINER = "gust-prepare";
export const FINISH_CONTAINER = "gust-finish";

export function stepContainerName(index: number): string {
  return `step-${index}`;
}

export function serviceContainerName(service: string): string {
  return `service-${service}`;
}

const MAX_LABEL = 63;
const HASH_LENGTH = 10;

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/**
 * The pod's name, also its Secret's: `gust-<readable part of the run id>-<hash of the run id>`, a
 * DNS-1123 label of at most 63 characters. The hash makes it collision-safe: run ids that sanitize
 * to the same text (case, punctuation, truncation) still get different names.
 */
export function podNameFor(runId: string): string {
  const room = MAX_LABEL - "gust-".length - 1 - HASH_LENGTH;
  const readable = runId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, room)
    .replace(/^-+|-+$/g, "");
  return readable === "" ? `gust-${shortHash(runId)}` : `gust-${readable}-${shortHash(runId)}`;
}

/**
 * `text` as a label value (at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric; may be
 * empty). Lossy: good for filtering and display; the exact text goes in an annotation.
 */
export function labelValue(text: string): string {
  return trimLabel(text.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, MAX_LABEL));
}

/**
 * A label value that identifies `text` exactly: `text` itself when it is a valid label value,
 * otherwise its readable part plus a hash, so distinct run ids never share a label value.
 */
export function exactLabelValue(text: string): string {
  if (isLabelValue(text)) return text;
  const readable = trimLabel(text.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, MAX_LABEL - 1 - HASH_LENGTH));
  return readable === "" ? shortHash(text) : `${readable}-${shortHash(text)}`;
}

export function isLabelValue(text: string): boolean {
  return text.length <= MAX_LABEL && /^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$/.test(text);
}

export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_LABEL && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(text);
}

function trimLabel(text: string): string {
  return text.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}
