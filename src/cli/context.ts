// What every command gets: output streams, colors, environment, and the concrete parts main/ wires.
import type { GustConfig } from "../config";
import type { Executor } from "../executors/executor";
import type { ApiTokensStore, RepositoriesStore } from "../store";
import type { Palette } from "./output/colors";

export interface LocalExecutorSettings {
  workRoot: string;
  artifactsDir: string;
  cacheDir: string;
}

export interface CliContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  colors: Palette;
  errorColors: Palette;
  env: NodeJS.ProcessEnv;
  cwd: string;
  createLocalExecutor(settings: LocalExecutorSettings): Executor;
  pruneArtifacts(artifactsDir: string, now: number): Promise<void>;
  /** Starts the service (main/serve.ts); resolves once it listens. */
  startServer(config: GustConfig): Promise<{ url: string; stop(): Promise<void> }>;
  /** The repositories, secrets and API tokens of the database gust serve uses (main/admin.ts). */
  openAdmin(config: GustConfig): Promise<{ repositories: RepositoriesStore; tokens: ApiTokensStore; close(): Promise<void> }>;
  /** Applies the migrations (main/admin.ts). */
  migrate(config: GustConfig): Promise<{ applied: number; total: number }>;
  readStdin(): Promise<string>;
  /** `gust run --executor kubernetes`: the executor and the runner API its pods reach (main/kubernetes-run.ts). */
  startKubernetesRun(config: GustConfig, options: { dataDir: string; warn(text: string): void }): Promise<{ executor: Executor; close(): Promise<void> }>;
  /** Registers a Ctrl-C handler; returns a function that removes it. */
  onInterrupt(handler: () => void): () => void;
}
