// The local target's settings from the pipeline file, checked and turned into how a version runs.
// Pure.
import path from "node:path";
import type { ReleaseTarget } from "../../pipeline/model";
import { userError } from "./local-errors";
import type { LaunchSettings } from "./version-store";

export type LocalTarget = Extract<ReleaseTarget, { type: "local" }>;

export function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw userError(`release.target.port must be a port number from 1 to 65535 (got ${String(port)})`, "local_invalid_target");
  }
  return port;
}

export function launchSettings(target: LocalTarget): LaunchSettings {
  if (typeof target.command !== "string" || target.command.trim().length === 0) {
    throw userError("release.target.command must start the version (a shell command; PORT is set for it)", "local_invalid_target");
  }
  if (target.healthPath !== undefined && !target.healthPath.startsWith("/")) {
    throw userError(`release.target.health-path must start with / (got '${target.healthPath}')`, "local_invalid_target");
  }
  let directory: string | undefined;
  if (target.directory !== undefined && target.directory !== "" && target.directory !== ".") {
    directory = path.posix.normalize(target.directory);
    if (path.posix.isAbsolute(directory) || directory === ".." || directory.startsWith("../")) {
      throw userError(`release.target.directory must be a directory inside the artifact (got '${target.directory}')`, "local_invalid_target");
    }
  }
  return {
    command: target.command,
    ...(directory ? { directory } : {}),
    ...(target.healthPath ? { healthPath: target.healthPath } : {}),
    env: { ...target.env },
  };
}
