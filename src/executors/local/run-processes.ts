// Finds and ends the processes of a run that another Gust process started (one that died): every
// step process carries GUST_RUN_ID in its environment, which /proc shows for processes of the same
// user. Used only on the rare reconciliation path, so a scan of /proc is affordable; without /proc
// (macOS) nothing can be found and the run counts as gone.
import { readFile, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Pids (not zombies) whose environment holds GUST_RUN_ID=<runId>. */
export async function findRunProcesses(runId: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  const marker = Buffer.from(`\0GUST_RUN_ID=${runId}\0`);
  const found: number[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) return;
      const environ = await readFile(`/proc/${entry}/environ`).catch(() => undefined);
      if (!environ || environ.length === 0) return;
      // The marker is NUL-delimited on both sides; the first variable has no NUL before it.
      const padded = Buffer.concat([Buffer.from([0]), environ, Buffer.from([0])]);
      if (padded.indexOf(marker) === -1) return;
      if (await isZombie(entry)) return;
      found.push(Number(entry));
    }),
  );
  return found.sort((a, b) => a - b);
}

/**
 * SIGTERM to each process and its group, SIGKILL to what is left after `graceMs`. Resolves with
 * whether anything was running.
 */
export async function endRunProcesses(runId: string, graceMs: number): Promise<boolean> {
  const pids = await findRunProcesses(runId);
  if (pids.length === 0) return false;
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let left = pids;
  let delay = 5;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
    left = await findRunProcesses(runId);
  }
  for (const pid of left) signal(pid, "SIGKILL");
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, name);
    } catch {
      // ESRCH: not a group leader, or already gone.
    }
  }
}

async function isZombie(pid: string): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return true;
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return state === "Z" || state === "X";
}
