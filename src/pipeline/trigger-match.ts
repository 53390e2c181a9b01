// Does an event start the pipeline? Pure matching of refs and changed paths against `on:`.
import picomatch from "picomatch";
import type { EventName, PathFilter, RefFilter, Triggers } from "./model";

export interface TriggerEvent {
  event: EventName;
  branch?: string;
  tag?: string;
  /** Target branch of a pull or merge request. */
  targetBranch?: string;
  action?: "opened" | "synchronize" | "reopened";
  /** Files changed by the event; undefined when unknown (path filters then pass). */
  changedFiles?: string[];
}

export type TriggerDecision = { matched: true; reason: string } | { matched: false; reason: string };

const globCache = new Map<string, (value: string) => boolean>();

export function globMatch(pattern: string, value: string): boolean {
  let matcher = globCache.get(pattern);
  if (!matcher) {
    matcher = picomatch(pattern, { dot: true });
    globCache.set(pattern, matcher);
  }
  return matcher(value);
}

/** Include globs (a leading `!` excludes again, later patterns win) then exclude globs. */
export function refMatches(filter: RefFilter, ref: string): boolean {
  if (filter.include) {
    let included = false;
    for (const pattern of filter.include) {
      if (pattern.startsWith("!")) {
        if (globMatch(pattern.slice(1), ref)) included = false;
      } else if (globMatch(pattern, ref)) included = true;
    }
    if (!included) return false;
  }
  return !(filter.exclude ?? []).some((pattern) => globMatch(pattern, ref));
}

function pathsMatch(filter: PathFilter, changed: string[] | undefined): { ok: boolean; why?: string } {
  if (changed === undefined || (!filter.paths && !filter.pathsIgnore)) return { ok: true };
  // `paths` take `!` like branches do (`[src/**, '!src/docs/**']`): the same ordered include rules.
  if (filter.paths && !changed.some((file) => refMatches({ include: filter.paths! }, file))) {
    return { ok: false, why: `no changed file matches paths ${filter.paths.join(", ")}` };
  }
  if (filter.pathsIgnore && changed.length > 0 && changed.every((file) => filter.pathsIgnore!.some((pattern) => globMatch(pattern, file)))) {
    return { ok: false, why: `every changed file matches paths-ignore ${filter.pathsIgnore.join(", ")}` };
  }
  return { ok: true };
}

export function matchTrigger(triggers: Triggers, event: TriggerEvent): TriggerDecision {
  switch (event.event) {
    case "push": {
      const push = triggers.push;
      if (!push || !push.onBranches) return { matched: false, reason: "the pipeline has no on.push trigger for branches" };
      const branch = event.branch ?? "";
      if (!refMatches(push.branches, branch)) return { matched: false, reason: `branch '${branch}' does not match on.push branches` };
      const paths = pathsMatch(push, event.changedFiles);
      return paths.ok ? { matched: true, reason: `push to ${branch}` } : { matched: false, reason: paths.why! };
    }
    case "tag": {
      const tag = event.tag ?? "";
      if (triggers.tag && refMatches(triggers.tag, tag)) return { matched: true, reason: `tag ${tag}` };
      if (triggers.push?.onTags && refMatches(triggers.push.tags, tag)) return { matched: true, reason: `tag ${tag} (on.push.tags)` };
      return { matched: false, reason: triggers.tag || triggers.push?.onTags ? `tag '${tag}' does not match the tag filters` : "the pipeline has no tag trigger" };
    }
    case "pull_request":
    case "merge_request": {
      const review = event.event === "pull_request" ? triggers.pullRequest : triggers.mergeRequest;
      if (!review) return { matched: false, reason: `the pipeline has no on.${event.event} trigger` };
      if (event.action && !review.types.includes(event.action)) return { matched: false, reason: `action '${event.action}' is not in on.${event.event}.types` };
      const target = event.targetBranch ?? "";
      if (!refMatches(review.branches, target)) return { matched: false, reason: `target branch '${target}' does not match on.${event.event} branches` };
      const paths = pathsMatch(review, event.changedFiles);
      return paths.ok ? { matched: true, reason: `${event.event === "pull_request" ? "pull request" : "merge request"} into ${target}` } : { matched: false, reason: paths.why! };
    }
    case "manual":
      return triggers.manual ? { matched: true, reason: "manual trigger" } : { matched: false, reason: "the pipeline has no on.manual trigger" };
    case "schedule":
      return triggers.schedule.length > 0 ? { matched: true, reason: "schedule" } : { matched: false, reason: "the pipeline has no on.schedule trigger" };
  }
}
