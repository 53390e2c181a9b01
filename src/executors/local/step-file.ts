// The file the step launcher (step-launcher.ts) sources in a forked subshell to become one step's
// shell: exports of the variables that differ from the launcher's own environment, a cd into the
// step's directory and an exec of `/bin/sh -e -c <script>`, all values single-quoted.

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESTORED = ["SHLVL", "OLDPWD"];

/** Single-quoted for sh: verbatim, `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * The step file's text, or undefined when the step cannot be expressed as one (a name that is not a
 * shell identifier, a NUL byte): such a step is spawned directly instead, which reports the problem
 * as before.
 * `launcherEnv` is what the launcher was started with; `stepEnv` what the step must see.
 * Variables the launcher shell and the cd change (SHLVL, OLDPWD) are always set back, after the cd.
 */
export function stepFileText(
  launcherEnv: Record<string, string>,
  stepEnv: Record<string, string>,
  cwd: string,
  script: string,
): string | undefined {
  if (cwd.includes("\0") || script.includes("\0")) return undefined;
  const lines = [`cd -- ${shellQuote(cwd)} || exit 1`];
  for (const [name, value] of Object.entries(stepEnv)) {
    if (launcherEnv[name] === value && !RESTORED.includes(name)) continue;
    if (!NAME.test(name) || value.includes("\0")) return undefined;
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  for (const name of RESTORED) if (!(name in stepEnv)) lines.push(`unset ${name}`);
  lines.push(`__gust_script=${shellQuote(script)}`);
  lines.push('exec /bin/sh -e -c "$__gust_script"');
  return `${lines.join("\n")}\n`;
}

/** Whether the launcher can be started with this environment (else steps are spawned directly). */
export function launchableEnv(env: Record<string, string>): boolean {
  for (const [name, value] of Object.entries(env)) if (name.includes("=") || name.includes("\0") || value.includes("\0")) return false;
  return true;
}
