// Signals to a version's process group. Each version's shell leads its own group (spawned
// detached), so a signal reaches whatever the command started, also in the background.
import { readFile, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Whether the group has a member that is not a zombie. kill(0) also succeeds for zombies, which
 * stay where PID 1 does not reap orphans (many containers), so on Linux /proc tells them apart.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The common case: the leader itself is still running.
  if (running(await readFile(`/proc/${pgid}/stat`, "utf8").catch(() => undefined), pgid)) return true;
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return true; // no /proc (macOS): its init reaps orphans, kill(0) is accurate there
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (running(await readFile(`/proc/${entry}/stat`, "utf8").catch(() => undefined), pgid)) return true;
  }
  return false;
}

/** A /proc/<pid>/stat of a live (not zombie) member of group `pgid`. */
function running(stat: string | undefined, pgid: number): boolean {
  if (stat === undefined) return false;
  // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X";
}

/**
 * SIGTERM to the group, SIGKILL once `graceMs` passed with a member still alive; resolves when the
 * group is gone. Members of a group are not all our children, so there is no exit event to wait
 * on: this polls, briefly, on the stop path only.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!(await groupAlive(pgid))) return;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let delay = 5;
  while (await groupAlive(pgid)) {
    if (Date.now() >= deadline) {
      signalGroup(pgid, "SIGKILL");
      const killDeadline = Date.now() + 2000;
      while ((await groupAlive(pgid)) && Date.now() < killDeadline) await sleep(10);
      return;
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
}

/** Whether a process's environment holds `NAME=value` (tells our leftover process from a reused pid). */
export async function processHasVariable(pid: number, name: string, value: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
  if (environ === undefined) return false;
  return environ.toString("utf8").split("\0").includes(`${name}=${value}`);
}
