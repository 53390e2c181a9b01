// The environment a version's command sees: the harmless part of Gust's own environment (never
// its database URL, master key or forge tokens), the target's env, and the release variables.
// PORT is added last by VersionProcess.

/** What a shell and common tools need, and where the machine says its proxies are. */
const HOST_VARIABLES = new Set(["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"]);

/** Marks every process of one version run; found in /proc/<pid>/environ after a crash of Gust. */
export const INSTANCE_VARIABLE = "GUST_LOCAL_INSTANCE";

export function versionEnvironment(
  targetEnv: Record<string, string>,
  release: { port: number; version: string; token: string },
  host: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(host)) {
    if (value !== undefined && (HOST_VARIABLES.has(name) || name.startsWith("LC_"))) env[name] = value;
  }
  return {
    ...env,
    ...targetEnv,
    GUST_RELEASE_VERSION: release.version,
    GUST_RELEASE_PORT: String(release.port),
    [INSTANCE_VARIABLE]: release.token,
  };
}
