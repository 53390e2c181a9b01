// Ends the job's service containers once the last step is done: the pod shares one process
// namespace, so SIGTERM to every process we may signal (kill(-1): all but PID 1, the pod's pause
// process, and ourselves), then SIGKILL to whatever is still there after the grace period. A
// container whose processes are gone has exited, and with it the pod can finish.
// Tests name their own targets (GUST_SERVICE_PIDS) instead: kill(-1) outside a pod would signal
// every process of the user running the tests.
import { readdir, readFile } from "node:fs/promises";

export interface StopOptions {
  /** Explicit pids (negative: a process group) instead of kill(-1). */
  targets?: number[];
  graceMs: number;
  log: (text: string) => void;
  pollMs?: number;
}

export async function stopServices(options: StopOptions): Promise<void> {
  const targets = options.targets;
  const signal = (name: NodeJS.Signals): void => {
    for (const target of targets ?? [-1]) {
      try {
        process.kill(target, name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error; // ESRCH: nothing left there
      }
    }
  };
  const remaining = (): Promise<number> => (targets ? Promise.resolve(targets.filter(isAlive).length) : otherProcesses());

  const before = await remaining();
  if (before === 0) {
    options.log("services: nothing left to stop");
    return;
  }
  options.log(`services: stopping (SIGTERM to ${before} process${before === 1 ? "" : "es"})`);
  signal("SIGTERM");
  const deadline = Date.now() + options.graceMs;
  const poll = options.pollMs ?? 100;
  while (Date.now() < deadline) {
    if ((await remaining()) === 0) {
      options.log("services: stopped");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
  const left = await remaining();
  if (left === 0) {
    options.log("services: stopped");
    return;
  }
  options.log(`services: ${left} process${left === 1 ? "" : "es"} still running after ${options.graceMs} ms; sending SIGKILL`);
  signal("SIGKILL");
}

function isAlive(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Live processes in our PID namespace other than PID 1 and this one (zombies only wait to be reaped). */
async function otherProcesses(): Promise<number> {
  const names = await readdir("/proc");
  let count = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === 1 || pid === process.pid) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => undefined);
    if (stat === undefined) continue; // gone meanwhile
    // Field 3 follows the command name in parentheses, which may itself contain ") ".
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state !== "Z" && state !== "X") count++;
  }
  return count;
}
