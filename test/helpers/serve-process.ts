// `gust serve` as a child process (the built bin/gust), for tests that must kill it for real.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { GUST, REPO_ROOT } from "./gust-cli";

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (pino JSON lines), for failure messages. */
  output(): string;
  /** Resolves with the exit code or signal once it is gone. */
  exited: Promise<string>;
}

/** A port that was free a moment ago (the child binds it; a restart reuses it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export async function startServeProcess(options: { dataDir: string; port: number; env?: Record<string, string>; readyTimeoutMs?: number }): Promise<ServeProcess> {
  const child = spawn(process.execPath, [GUST, "serve", "--data-dir", options.dataDir, "--port", String(options.port), "--host", "127.0.0.1"], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", GUST_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? String(code))));
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gust serve exited before it was ready:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`gust serve was not ready within the timeout:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child, output: () => output, exited };
}
