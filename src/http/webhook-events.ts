// Which forge events can start pipelines. Pure: the routes decide from the event header alone when
// they can (no parsing of bodies that will be ignored), and from the payload when the action matters.

export type Verdict = { kind: "accept" } | { kind: "pong" } | { kind: "ignore"; reason: string };

const ACCEPT: Verdict = { kind: "accept" };
/** The verdict waits for the parsed payload. */
export const NEEDS_PAYLOAD = "needs_payload" as const;

const ignore = (reason: string): Verdict => ({ kind: "ignore", reason });

export function githubEventVerdict(event: string): Verdict | typeof NEEDS_PAYLOAD {
  switch (event) {
    case "ping":
      return { kind: "pong" };
    case "push":
      return ACCEPT;
    case "pull_request":
      return NEEDS_PAYLOAD;
    default:
      return ignore(`event '${event}' does not start pipelines`);
  }
}

/** New commits to test: opened, new commits pushed, reopened. Closing, labels, reviews are not. */
const PULL_REQUEST_ACTIONS = new Set(["opened", "synchronize", "reopened"]);

export function githubPayloadVerdict(event: string, payload: Record<string, unknown>): Verdict {
  if (event !== "pull_request") return ACCEPT;
  const action = payload["action"];
  if (typeof action === "string" && PULL_REQUEST_ACTIONS.has(action)) return ACCEPT;
  return ignore(`pull_request action '${String(action)}' does not start pipelines`);
}

const GITLAB_EVENTS = new Set(["Push Hook", "Tag Push Hook", "Merge Request Hook"]);

export function gitlabEventVerdict(event: string): Verdict | typeof NEEDS_PAYLOAD {
  if (!GITLAB_EVENTS.has(event)) return ignore(`event '${event}' does not start pipelines`);
  return event === "Merge Request Hook" ? NEEDS_PAYLOAD : ACCEPT;
}

export function gitlabPayloadVerdict(event: string, payload: Record<string, unknown>): Verdict {
  if (event !== "Merge Request Hook") return ACCEPT;
  const attributes = payload["object_attributes"];
  const fields = attributes !== null && typeof attributes === "object" ? (attributes as Record<string, unknown>) : {};
  const action = fields["action"];
  if (action === "open" || action === "reopen") return ACCEPT;
  // GitLab sets `oldrev` on an update only when code changed (a push, an applied suggestion);
  // title, label and assignee edits are updates too and must not start pipelines.
  if (action === "update") {
    return typeof fields["oldrev"] === "string" && fields["oldrev"] !== "" ? ACCEPT : ignore("merge request update without new commits");
  }
  return ignore(`merge request action '${String(action)}' does not start pipelines`);
}
