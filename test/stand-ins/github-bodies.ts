// Request validation and response objects of the GitHub stand-in, shaped like the REST API's:
// 422 bodies the way GitHub words them, check runs and commit statuses with their fields.

export const DOCS = "https://docs.github.com/rest";

export interface CheckRun {
  id: number;
  name: string;
  node_id: string;
  head_sha: string;
  external_id: string;
  url: string;
  html_url: string;
  details_url: string | null;
  status: "queued" | "in_progress" | "completed" | "waiting" | "requested" | "pending";
  conclusion: string | null;
  started_at: string | null;
  completed_at: string | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number; annotations_url: string };
  check_suite: { id: number };
  app: { id: number; slug: string; name: string };
  pull_requests: unknown[];
}

export interface CommitStatus {
  url: string;
  avatar_url: string | null;
  id: number;
  node_id: string;
  state: "error" | "failure" | "pending" | "success";
  description: string | null;
  target_url: string | null;
  context: string;
  created_at: string;
  updated_at: string;
  sha: string;
}

export type Invalid = { status: 422; body: { message: string; errors?: unknown[]; documentation_url: string; status: "422" } };

export function invalid(message: string, errors?: unknown[]): Invalid {
  return { status: 422, body: { message, ...(errors ? { errors } : {}), documentation_url: DOCS, status: "422" } };
}

const CHECK_STATUSES = ["queued", "in_progress", "completed", "waiting", "requested", "pending"];
const CONCLUSIONS = ["action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"];
const OUTPUT_LIMIT = 65_535;

type Body = Record<string, unknown>;

/** GitHub's JSON-schema wording for a create or update of a check run; undefined when valid. */
export function checkRunProblem(body: unknown, creating: boolean): Invalid | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return invalid("Problems parsing JSON");
  const b = body as Body;
  const required = creating ? ["name", "head_sha"] : [];
  for (const field of required) if (b[field] === undefined) return invalid(`Invalid request.\n\n"${field}" wasn't supplied.`);
  for (const field of ["name", "head_sha", "details_url", "external_id", "status", "conclusion", "started_at", "completed_at"]) {
    if (b[field] !== undefined && typeof b[field] !== "string") return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(b[field])} is not a string.`);
  }
  if (b.status !== undefined && !CHECK_STATUSES.includes(b.status as string)) {
    return invalid(`Invalid request.\n\nFor 'properties/status', ${JSON.stringify(b.status)} is not one of ${JSON.stringify(CHECK_STATUSES)}.`);
  }
  if (b.conclusion !== undefined && !CONCLUSIONS.includes(b.conclusion as string)) {
    return invalid(`Invalid request.\n\nFor 'properties/conclusion', ${JSON.stringify(b.conclusion)} is not one of ${JSON.stringify(CONCLUSIONS)}.`);
  }
  if (b.status === "completed" && b.conclusion === undefined) {
    return invalid(`Invalid request.\n\nNo subschema in "anyOf" matched.\n"conclusion" wasn't supplied.`);
  }
  for (const field of ["started_at", "completed_at"]) {
    if (typeof b[field] === "string" && !Number.isFinite(Date.parse(b[field] as string))) {
      return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(b[field])} is not a timestamp.`);
    }
  }
  if (b.output !== undefined) {
    if (b.output === null || typeof b.output !== "object") return invalid(`Invalid request.\n\nFor 'properties/output', ${JSON.stringify(b.output)} is not an object.`);
    const output = b.output as Body;
    for (const field of ["title", "summary"]) {
      if (output[field] === undefined) return invalid(`Invalid request.\n\n"${field}" wasn't supplied.`);
    }
    for (const field of ["title", "summary", "text"]) {
      if (output[field] !== undefined && typeof output[field] !== "string") {
        return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(output[field])} is not a string.`);
      }
    }
    for (const field of ["summary", "text"]) {
      const value = output[field];
      if (typeof value === "string" && value.length > OUTPUT_LIMIT) {
        return invalid(`Invalid request.\n\nOnly ${OUTPUT_LIMIT} characters are allowed; ${value.length} were supplied.`);
      }
    }
  }
  return undefined;
}

/** Applies a valid create/update body to a check run, with GitHub's implied fields. */
export function applyCheckRun(run: CheckRun, body: Body, now: string): void {
  if (typeof body.name === "string") run.name = body.name;
  if (typeof body.details_url === "string") run.details_url = body.details_url;
  if (typeof body.external_id === "string") run.external_id = body.external_id;
  if (typeof body.started_at === "string") run.started_at = body.started_at;
  if (typeof body.status === "string") run.status = body.status as CheckRun["status"];
  // "Providing conclusion will automatically set the status parameter to completed."
  if (typeof body.conclusion === "string") {
    run.conclusion = body.conclusion;
    run.status = "completed";
  }
  if (run.status === "completed") run.completed_at = typeof body.completed_at === "string" ? body.completed_at : (run.completed_at ?? now);
  if (body.output && typeof body.output === "object") {
    const output = body.output as Body;
    run.output.title = output.title as string;
    run.output.summary = output.summary as string;
    if (typeof output.text === "string") run.output.text = output.text;
  }
}

const STATUS_STATES = ["error", "failure", "pending", "success"];

export function commitStatusProblem(body: unknown): Invalid | undefined {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return invalid("Problems parsing JSON");
  const b = body as Body;
  if (b.state === undefined) return invalid(`Invalid request.\n\n"state" wasn't supplied.`);
  for (const field of ["state", "target_url", "description", "context"]) {
    if (b[field] !== undefined && b[field] !== null && typeof b[field] !== "string") {
      return invalid(`Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(b[field])} is not a string or null.`);
    }
  }
  if (!STATUS_STATES.includes(b.state as string)) {
    return invalid("Validation Failed", [{ resource: "Status", code: "custom", field: "state", message: "state is not included in the list" }]);
  }
  if (typeof b.description === "string" && b.description.length > 140) {
    return invalid("Validation Failed", [{ resource: "Status", code: "custom", field: "description", message: "description is too long (maximum is 140 characters)" }]);
  }
  return undefined;
}
