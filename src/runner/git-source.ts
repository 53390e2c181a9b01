// Clones exactly one commit into the workspace: `git init`, a shallow fetch of the commit by its
// id, a detached checkout. Servers that refuse to hand out a commit by id get the ref fetched
// instead (deepened to all of its history when the commit is older than the depth).
// Credentials reach git only through GIT_CONFIG_* environment variables (an Authorization header
// scoped to the repository's origin): never on a command line, never in .git/config.
import { spawn } from "node:child_process";
import type { RunnerSource } from "./runner-config";

type GitSource = Extract<RunnerSource, { kind: "git" }>;

export class GitCommandError extends Error {
  override readonly name = "GitCommandError";
}

export async function cloneCommit(source: GitSource, workspace: string, log: (text: string) => void): Promise<void> {
  const env = gitEnvironment(source);
  const git = (args: string[]): Promise<string> => runGit(["-C", workspace, ...args], env);
  const depth = source.depth > 0 ? [`--depth=${source.depth}`] : [];

  await runGit(["-c", "init.defaultBranch=main", "init", "--quiet", workspace], env);
  await git(["remote", "add", "origin", source.url]);
  try {
    await git(["fetch", "--quiet", "--no-tags", ...depth, "origin", source.commit]);
  } catch (error) {
    // Only servers that refuse a fetch by id (allowReachableSHA1InWant off) get here; a wrong URL
    // or bad credentials fail the same way again below, with git's message.
    const ref = source.ref;
    log(`source: fetching ${source.commit} by id failed (${firstLine(error)}); fetching ${ref ?? "all branches and tags"} instead`);
    if (ref) await git(["fetch", "--quiet", "--no-tags", ...depth, "origin", ref]);
    else await git(["fetch", "--quiet", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]);
    if (!(await hasCommit(git, source.commit)) && (await git(["rev-parse", "--is-shallow-repository"])).trim() === "true") {
      log(`source: ${source.commit} is older than ${ref} at depth ${source.depth}; fetching its whole history`);
      await git(["fetch", "--quiet", "--no-tags", "--unshallow", "origin", ref ?? "+refs/heads/*:refs/remotes/origin/*"]);
    }
    if (!(await hasCommit(git, source.commit))) throw new GitCommandError(`commit ${source.commit} is not on ${ref ?? "any branch or tag"} of ${source.url}`);
  }
  await git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", "--detach", source.commit]);
  if (source.submodules) await git(["submodule", "update", "--quiet", "--init", "--recursive", ...depth]);
}

/**
 * The environment git runs with: never prompting, and the credentials as an `http.<origin>/.extraHeader`
 * config entry, which git applies to that origin only (a submodule on another host never sees them).
 */
export function gitEnvironment(source: GitSource, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "", SSH_ASKPASS: "" };
  for (const key of Object.keys(env)) if (/^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)$/.test(key)) delete env[key];
  if (source.auth) {
    const origin = originOf(source.url);
    if (origin === undefined) throw new GitCommandError(`credentials are given for ${source.url}, which is not an http(s) URL`);
    const basic = Buffer.from(`${source.auth.username}:${source.auth.password}`).toString("base64");
    env.GIT_CONFIG_COUNT = "1";
    env.GIT_CONFIG_KEY_0 = `http.${origin}/.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  return env;
}

function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? `${parsed.protocol}//${parsed.host}` : undefined;
  } catch {
    return undefined;
  }
}

async function hasCommit(git: (args: string[]) => Promise<string>, commit: string): Promise<boolean> {
  return git(["cat-file", "-e", `${commit}^{commit}`]).then(() => true, () => false);
}

function runGit(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4000)));
    child.on("error", (error) => reject(new GitCommandError(`cannot run git: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) resolve(stdout);
      else reject(new GitCommandError(`git ${subcommand(args)} failed: ${stderr.trim() || `exit ${code}`}`));
    });
  });
}

/** The git command's name, skipping `-C dir` and `-c key=value`. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-C" || arg === "-c") i++;
    else return arg;
  }
  return "";
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
