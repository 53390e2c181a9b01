// The flags that describe which event `gust run` and `gust validate` simulate.
import type { EventContext, EventName } from "../pipeline";
import { keyValues, oneOf, type OptionSpec } from "./args";
import type { RepositoryState } from "./git-info";

export const EVENT_OPTIONS = {
  event: { type: "string" },
  branch: { type: "string" },
  tag: { type: "string" },
  target: { type: "string" },
  input: { type: "string", multiple: true },
  changed: { type: "string", multiple: true },
} as const satisfies OptionSpec;

export const EVENT_HELP = `  --event E          push (default), pull_request, merge_request, tag, manual, schedule
  --branch B         branch of the event (default: the checked-out branch, else main)
  --tag T            tag of a tag event (implies --event tag)
  --target B         target branch of a pull or merge request (default: main)
  --input K=V        manual input (repeatable)
  --changed PATH     a file the event changed, for paths filters (repeatable; default:
                     unknown, so paths filters do not hold a pipeline back)`;

const EVENTS: readonly EventName[] = ["push", "pull_request", "merge_request", "tag", "manual", "schedule"];

export interface EventFlags {
  event?: string | undefined;
  branch?: string | undefined;
  tag?: string | undefined;
  target?: string | undefined;
  input?: string[] | undefined;
  changed?: string[] | undefined;
}

export function eventContext(flags: EventFlags, repo: RepositoryState, sha: string): EventContext {
  const event = oneOf(flags.event, EVENTS, "event", flags.tag !== undefined ? "tag" : "push");
  const branch = flags.branch ?? repo.branch ?? "main";
  const inputs = keyValues(flags.input, "input");
  const changed = flags.changed ? { changedFiles: flags.changed } : {};
  if (event === "tag") {
    const tag = flags.tag ?? "v0.0.0-local";
    return { event, ref: `refs/tags/${tag}`, sha, tag, inputs, ...changed };
  }
  if (event === "pull_request" || event === "merge_request") {
    return { event, ref: `refs/heads/${branch}`, sha, branch, targetBranch: flags.target ?? "main", action: "synchronize", inputs, ...changed };
  }
  return { event, ref: `refs/heads/${branch}`, sha, branch, inputs, ...changed };
}
