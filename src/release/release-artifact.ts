// What a release publishes, and its identity: a digest over the artifact's files (paths, modes
// and contents, in a fixed order), so the same build gives the same version again; or the digest of
// an image or package reference.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { InputError } from "../errors";
import type { ReleaseTarget } from "../pipeline/model";
import type { ReleaseArtifact } from "./deploy-provider";

/** Written by executors beside a job's artifacts; not part of what was built. */
const MANIFESTS = new Set(["gust-artifact.json"]);

/**
 * The artifact for `target`: files at `subpath` inside `root` (the producing job's artifacts),
 * and/or the image or package the target names.
 */
export async function releaseArtifact(target: ReleaseTarget, files: { root: string; subpath?: string } | undefined, description: string): Promise<ReleaseArtifact> {
  const image = "image" in target ? target.image : undefined;
  if (target.type === "sae") {
    const reference = target.image ?? `${target.packageUrl ?? ""}#${target.packageVersion ?? ""}`;
    return {
      ...(target.image ? { image: target.image } : {}),
      ...(target.packageUrl ? { packageUrl: target.packageUrl } : {}),
      ...(target.packageVersion ? { packageVersion: target.packageVersion } : {}),
      digest: sha256(reference),
      description,
    };
  }
  if (image !== undefined && !files) return { image, digest: sha256(image), description };
  if (!files) throw new InputError(`a ${target.type} release needs an artifact (release.artifact)`, "release_without_artifact");
  const location = resolveInside(files.root, files.subpath);
  const info = await lstat(location).catch(() => undefined);
  if (!info) throw new InputError(`the artifact has no ${files.subpath ?? "files"} (looked in ${location})`, "artifact_not_found");
  return { path: location, digest: await digestPath(location), description };
}

/** sha256 over every file under `location` (or of the one file): relative path, type, mode, content. */
export async function digestPath(location: string): Promise<string> {
  const hash = createHash("sha256");
  const info = await lstat(location);
  if (!info.isDirectory()) {
    await hashFile(hash, location, ".", info.mode);
    return hash.digest("hex");
  }
  for (const relative of await listFiles(location)) {
    const file = path.join(location, relative);
    const entry = await lstat(file);
    if (entry.isSymbolicLink()) hash.update(`link\0${relative}\0${await readlink(file)}\0`);
    else await hashFile(hash, file, relative, entry.mode);
  }
  return hash.digest("hex");
}

async function hashFile(hash: ReturnType<typeof createHash>, file: string, relative: string, mode: number): Promise<void> {
  // Only the executable bit: umask differences between machines must not make a new version.
  hash.update(`file\0${relative}\0${mode & 0o111 ? "x" : "-"}\0`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  hash.update("\0");
}

/** Relative paths of files and links under `root`, sorted, without executors' manifests. */
async function listFiles(root: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(path.join(root, prefix), { withFileTypes: true });
  const out: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (prefix === "" && MANIFESTS.has(entry.name)) continue;
    if (entry.isDirectory()) out.push(...(await listFiles(root, relative)));
    else out.push(relative);
  }
  return out;
}

function resolveInside(root: string, subpath: string | undefined): string {
  const location = path.resolve(root, subpath ?? ".");
  if (location !== root && !location.startsWith(root + path.sep)) throw new InputError(`release.artifact.path '${subpath}' leaves the artifact`, "invalid_artifact_path");
  return location;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
