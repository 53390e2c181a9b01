// The published versions of one port on disk: `versions/<n>/app/` holds a copy of the artifact,
// `versions/<n>/manifest.json` its digest, description and how to run it (a version is immutable:
// its launch settings are part of it, as a function version's configuration is on FC). A version
// appears whole or not at all (assembled in a staging directory, then renamed into place), and
// version numbers are never reused: the last one handed out is kept in `last-version`.
import { randomBytes } from "node:crypto";
import { cp, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { PublishedVersion, ReleaseArtifact } from "../deploy-provider";
import { readJson, writeJsonAtomic } from "./atomic-file";
import { asProviderError, userError } from "./local-errors";

export interface LaunchSettings {
  command: string;
  /** Working directory inside the artifact. */
  directory?: string;
  healthPath?: string;
  env: Record<string, string>;
}

export interface VersionManifest {
  version: string;
  digest: string;
  description: string;
  createdAt: string;
  launch: LaunchSettings;
}

const VERSION_NAME = /^[1-9]\d*$/;
const STAGING_PREFIX = ".staging-";
const DELETING_PREFIX = ".deleting-";

export class VersionStore {
  private readonly versionsDir: string;
  private readonly counterFile: string;
  /** Publishes run one at a time, so the same artifact published twice at once is one version. */
  private publishing: Promise<unknown> = Promise.resolve();

  constructor(portDir: string) {
    this.versionsDir = path.join(portDir, "versions");
    this.counterFile = path.join(portDir, "last-version");
  }

  publish(artifact: ReleaseArtifact, launch: LaunchSettings): Promise<PublishedVersion> {
    const result = this.publishing.then(() => this.publishNow(artifact, launch));
    this.publishing = result.catch(() => undefined);
    return result;
  }

  /** Newest first. */
  async list(): Promise<VersionManifest[]> {
    let names: string[];
    try {
      names = await readdir(this.versionsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw asProviderError(error, "reading the local versions");
    }
    const manifests = await Promise.all(names.filter((name) => VERSION_NAME.test(name)).map((name) => this.read(name)));
    return manifests.filter((manifest) => manifest !== undefined).sort((a, b) => Number(b.version) - Number(a.version));
  }

  async read(version: string): Promise<VersionManifest | undefined> {
    if (!VERSION_NAME.test(version)) return undefined;
    try {
      const manifest = (await readJson(path.join(this.versionsDir, version, "manifest.json"))) as VersionManifest | undefined;
      return manifest?.version === version ? manifest : undefined;
    } catch (error) {
      throw asProviderError(error, `reading local version ${version}`);
    }
  }

  /** Where the version's command runs. */
  workingDirectory(manifest: VersionManifest): string {
    const app = path.join(this.versionsDir, manifest.version, "app");
    return manifest.launch.directory ? path.join(app, manifest.launch.directory) : app;
  }

  /** Removes a version; one that is already gone is fine. */
  async remove(version: string): Promise<void> {
    if (!VERSION_NAME.test(version)) return;
    const aside = path.join(this.versionsDir, `${DELETING_PREFIX}${version}-${randomBytes(4).toString("hex")}`);
    try {
      await rename(path.join(this.versionsDir, version), aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw asProviderError(error, `deleting local version ${version}`);
    }
    await rm(aside, { recursive: true, force: true }).catch((error: unknown) => {
      throw asProviderError(error, `deleting local version ${version}`);
    });
  }

  /** Removes what a crash left half done: staging and half-deleted directories. */
  async removeLeftovers(): Promise<void> {
    const names = await readdir(this.versionsDir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => name.startsWith(STAGING_PREFIX) || name.startsWith(DELETING_PREFIX))
        .map((name) => rm(path.join(this.versionsDir, name), { recursive: true, force: true })),
    );
  }

  private async publishNow(artifact: ReleaseArtifact, launch: LaunchSettings): Promise<PublishedVersion> {
    const existing = (await this.list()).find((manifest) => manifest.digest === artifact.digest && sameLaunch(manifest.launch, launch));
    if (existing) return { version: existing.version, created: false };
    if (!artifact.path) throw userError("a local release target needs the artifact as files (artifact.path); images and package URLs run on FC or SAE", "local_artifact_missing");
    const source = artifact.path;
    const info = await stat(source).catch(() => undefined);
    if (!info || !(info.isDirectory() || info.isFile())) {
      throw userError(`artifact path ${source} is not a file or directory on this machine`, "local_artifact_missing");
    }
    const staging = path.join(this.versionsDir, `${STAGING_PREFIX}${randomBytes(6).toString("hex")}`);
    try {
      const app = path.join(staging, "app");
      await mkdir(app, { recursive: true });
      const destination = info.isDirectory() ? app : path.join(app, path.basename(source));
      await cp(source, destination, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
      if (launch.directory) {
        const workdir = await stat(path.join(app, launch.directory)).catch(() => undefined);
        if (!workdir?.isDirectory()) throw userError(`directory '${launch.directory}' is not a directory inside the artifact`, "local_directory_missing");
      }
      return { version: await this.commit(staging, artifact, launch), created: true };
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw asProviderError(error, "publishing a local version");
    }
  }

  /** Gives the staged version the next number and moves it into place. */
  private async commit(staging: string, artifact: ReleaseArtifact, launch: LaunchSettings): Promise<string> {
    const names = await readdir(this.versionsDir);
    const highestDir = Math.max(0, ...names.filter((name) => VERSION_NAME.test(name)).map(Number));
    const counted = Number((await readJson(this.counterFile)) ?? 0);
    let number = Math.max(highestDir, Number.isSafeInteger(counted) ? counted : 0) + 1;
    for (;;) {
      const version = String(number);
      // The number is taken before the directory appears: a crash in between skips a number, never reuses one.
      await writeJsonAtomic(this.counterFile, number, 0o644);
      const manifest: VersionManifest = { version, digest: artifact.digest, description: artifact.description, createdAt: new Date().toISOString(), launch };
      await writeJsonAtomic(path.join(staging, "manifest.json"), manifest);
      try {
        await rename(staging, path.join(this.versionsDir, version));
        return version;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
        number += 1; // a directory of that number appeared meanwhile (another process)
      }
    }
  }
}

function sameLaunch(a: LaunchSettings, b: LaunchSettings): boolean {
  return canonical(a) === canonical(b);
}

function canonical(launch: LaunchSettings): string {
  const env = Object.fromEntries(Object.entries(launch.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return JSON.stringify([launch.command, launch.directory ?? null, launch.healthPath ?? null, env]);
}
