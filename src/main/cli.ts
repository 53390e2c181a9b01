// Composition root of the `gust` command: chooses the concrete executor and wires the process.
import { runCli } from "../cli/main";
import { colorsEnabled, palette } from "../cli/output/colors";
import { LocalExecutor, pruneExpiredArtifacts } from "../executors/local";
import { migrateDatabase, openAdmin } from "./admin";
import { createLogger } from "./logger";
import { startKubernetesRun } from "./kubernetes-run";
import { startServer } from "./serve";

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  colors: palette(colorsEnabled(process.stdout)),
  errorColors: palette(colorsEnabled(process.stderr)),
  env: process.env,
  cwd: process.cwd(),
  createLocalExecutor: (settings) => new LocalExecutor({ ...settings, announceUnusedContainers: false, hostEnvironment: "all" }),
  pruneArtifacts: async (dir, now) => {
    await pruneExpiredArtifacts(dir, now);
  },
  startServer: (config) => startServer(config, createLogger(config.logLevel)),
  openAdmin: (config) => openAdmin(config, (text) => process.stderr.write(`warning: ${text}\n`)),
  migrate: (config) => migrateDatabase(config),
  startKubernetesRun,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
  onInterrupt: (handler) => {
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
    return () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    };
  },
});
// Let stdout drain before exiting (piped output would otherwise be cut).
process.stdout.write("", () => process.exit(exitCode));
