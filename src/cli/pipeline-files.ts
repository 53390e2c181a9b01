// Finds and parses the pipeline files of a directory (or one named file) on disk.
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { defaultPipelineName, parsePipeline, pipelineFilesIn, PIPELINE_DIR, type ParseResult } from "../pipeline";
import { InputError } from "../errors";

export interface LoadedPipeline {
  /** Path as shown to the user. */
  file: string;
  result: ParseResult;
}

export interface LoadedRepository {
  /** The repository root: where steps run. */
  root: string;
  pipelines: LoadedPipeline[];
}

export async function loadPipelines(target: string): Promise<LoadedRepository> {
  const path = resolve(target);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new InputError(`${target}: no such file or directory`, "not_found");
  if (info.isFile()) {
    const root = basename(dirname(path)) === PIPELINE_DIR ? dirname(dirname(path)) : dirname(path);
    return { root, pipelines: [await loadOne(path, displayPath(path), basename(root))] };
  }
  const listing = [...(await readdir(path))];
  const inDir = await readdir(join(path, PIPELINE_DIR)).catch(() => [] as string[]);
  listing.push(...inDir.map((name) => `${PIPELINE_DIR}/${name}`));
  const files = pipelineFilesIn(listing);
  if (files.length === 0) {
    throw new InputError(`${displayPath(path)}: no pipeline file (.gust.yml or .gust/*.yml)`, "not_found");
  }
  return { root: path, pipelines: await Promise.all(files.map((file) => loadOne(join(path, file), displayPath(join(path, file)), basename(path)))) };
}

async function loadOne(path: string, shown: string, repositoryName: string): Promise<LoadedPipeline> {
  const text = await readFile(path, "utf8");
  return { file: shown, result: parsePipeline(text, shown, defaultPipelineName(shown, repositoryName)) };
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === "" ? "." : rel.startsWith("..") ? path : rel;
}
