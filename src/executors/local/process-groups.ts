// The process groups of one job's steps. Every step's shell leads its own group (spawned detached), so
// a signal to the group reaches whatever the step started, also in the background. Groups are
// terminated with SIGTERM, then SIGKILL after a grace period.
import { readFile, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export class ProcessGroups {
  private readonly groups = new Set<number>();
  private readonly killTimers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly graceMs: number) {}

  add(pgid: number): void {
    this.groups.add(pgid);
  }

  /** SIGTERM now, SIGKILL after the grace period unless the job ends first (terminateAll). */
  terminate(pgid: number): void {
    signalGroup(pgid, "SIGTERM");
    if (this.killTimers.has(pgid)) return;
    this.killTimers.set(
      pgid,
      setTimeout(() => signalGroup(pgid, "SIGKILL"), this.graceMs),
    );
  }

  /**
   * Ends every group the job started and resolves once they are gone (or were sent SIGKILL). The
   * common case (no step left anything behind) costs one kill(0) per step and no waiting.
   */
  async terminateAll(): Promise<void> {
    let alive = [...this.groups].filter(groupExists);
    if (alive.length > 0 && (await liveGroups(alive)).length > 0) {
      for (const pgid of alive) signalGroup(pgid, "SIGTERM");
      const deadline = Date.now() + this.graceMs;
      // Waiting on processes that are not our children has no event to listen to: poll briefly,
      // only on this rare path.
      let delay = 5;
      while ((alive = await liveGroups(alive)).length > 0 && Date.now() < deadline) {
        await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
        delay = Math.min(delay * 2, 100);
      }
      for (const pgid of alive) signalGroup(pgid, "SIGKILL");
      const killDeadline = Date.now() + 1000;
      while ((alive = await liveGroups(alive)).length > 0 && Date.now() < killDeadline) await sleep(10);
    }
    for (const timer of this.killTimers.values()) clearTimeout(timer);
    this.killTimers.clear();
    this.groups.clear();
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Groups with a member that is not a zombie. kill(0) also succeeds for zombies, which stay around
 * wherever PID 1 does not reap orphans (many containers), so on Linux /proc tells them apart.
 */
async function liveGroups(pgids: number[]): Promise<number[]> {
  const candidates = pgids.filter(groupExists);
  if (candidates.length === 0) return candidates;
  const wanted = new Set(candidates);
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return candidates; // no /proc (macOS): its init reaps orphans, kill(0) is accurate there
  }
  const live = new Set<number>();
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      let stat: string;
      try {
        stat = await readFile(`/proc/${entry}/stat`, "utf8");
      } catch {
        return; // exited meanwhile
      }
      // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      const pgrp = Number(fields[2]);
      if (wanted.has(pgrp) && state !== "Z" && state !== "X") live.add(pgrp);
    }),
  );
  return candidates.filter((pgid) => live.has(pgid));
}
