// `gust-runner`, the helper program of a job pod (bundled alone to dist/gust-runner.mjs: Node
// built-ins and tar only, no node_modules beside it). `prepare` runs as the init container,
// `finish` as the last one. Progress lines go to stdout, where the executor reads them as the
// job's system lines; on failure one line goes to the termination log and the exit code is 1.
import { writeFile } from "node:fs/promises";
import { finish } from "./finish";
import { prepare } from "./prepare";
import { describe } from "./retry";
import { RunnerClient } from "./runner-client";
import { readRunnerConfig, runnerPaths } from "./runner-config";

const USAGE = "usage: gust-runner prepare|finish";

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const command = argv[0];
  const paths = runnerPaths(env);
  const log = (text: string): void => void process.stdout.write(`${text}\n`);
  try {
    if (command !== "prepare" && command !== "finish") throw new Error(`unknown command ${JSON.stringify(command ?? "")}; ${USAGE}`);
    const config = await readRunnerConfig(paths.config);
    const client = new RunnerClient(config.runnerUrl, config.token, log);
    if (command === "prepare") {
      await prepare(config, paths, client, log);
    } else {
      await finish(config, paths, client, log, {
        serviceGraceMs: numberFrom(env.GUST_SERVICE_GRACE_MS) ?? 10_000,
        ...(env.GUST_SERVICE_PIDS ? { serviceTargets: pidsFrom(env.GUST_SERVICE_PIDS) } : {}),
      });
    }
    return 0;
  } catch (error) {
    // One line; Kubernetes keeps at most 4 KiB of a termination message.
    const reason = `gust-runner${command ? ` ${command}` : ""}: ${describe(error)}`.replace(/\s+/g, " ").trim().slice(0, 2000);
    process.stderr.write(`${reason}\n`);
    await writeFile(paths.terminationLog, `${reason}\n`).catch(() => undefined);
    return 1;
  }
}

function numberFrom(text: string | undefined): number | undefined {
  const value = text === undefined || text === "" ? Number.NaN : Number(text);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function pidsFrom(text: string): number[] {
  const pids = text.split(/[\s,]+/).filter(Boolean).map(Number);
  // 0 and -1 would signal far more than a test's own processes.
  if (pids.some((pid) => !Number.isInteger(pid) || pid === 0 || pid === -1)) throw new Error(`GUST_SERVICE_PIDS: not a list of pids: ${text}`);
  return pids;
}

// Exit at once: an idle keep-alive connection to the API must not hold the container open.
process.exit(await main(process.argv.slice(2), process.env));
