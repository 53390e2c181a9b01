// Which of Gust's pods the janitor deletes (pure): pods whose run is neither followed by this
// process nor running anywhere (its replica died and the job was settled without it), and pods kept
// after a failure whose keeping time has passed. A pod being deleted already is left alone.
import type { V1Pod } from "@kubernetes/client-node";
import { ANNOTATIONS } from "./pod-names";

export const DELETE_AFTER_ANNOTATION = "gust.dev/delete-after";

export interface JanitorFacts {
  now: number;
  /** Runs this process follows. */
  localRuns: Set<string>;
  /** Runs the database still holds as running (another replica follows them, or will adopt them). */
  activeRuns: Set<string>;
}

export function janitorVictims(pods: readonly V1Pod[], facts: JanitorFacts): string[] {
  const victims: string[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name;
    const runId = pod.metadata?.annotations?.[ANNOTATIONS.runId];
    if (!name || !runId || pod.metadata?.deletionTimestamp) continue;
    const deleteAfter = pod.metadata?.annotations?.[DELETE_AFTER_ANNOTATION];
    if (deleteAfter !== undefined) {
      const until = Date.parse(deleteAfter);
      if (!Number.isFinite(until) || until <= facts.now) victims.push(name);
      continue;
    }
    if (facts.localRuns.has(runId) || facts.activeRuns.has(runId)) continue;
    victims.push(name);
  }
  return victims;
}
