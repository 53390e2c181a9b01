// The optional notification webhook (release.notify.webhook): every transition is POSTed as JSON.
// Best effort, off the release's path: a few tries with backoff, then it is logged and dropped.

export interface ReleaseNotice {
  release: number;
  repository: string;
  pipeline: number;
  target: string;
  version: string | null;
  from: string;
  to: string;
  weight: number;
  reason: string;
  at: string;
}

export async function postNotice(url: string, notice: ReleaseNotice, options: { attempts?: number; fetch?: typeof fetch; onFailure?: (error: string) => void } = {}): Promise<boolean> {
  const attempts = options.attempts ?? 3;
  const doFetch = options.fetch ?? fetch;
  let last = "";
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      const response = await doFetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "gust-release-notifier" },
        body: JSON.stringify({ event: "release.transition", ...notice }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return true;
      last = `HTTP ${response.status}`;
      // A client error will not change on a retry.
      if (response.status >= 400 && response.status < 500 && response.status !== 429) break;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
  }
  options.onFailure?.(`notification to ${url} failed: ${last}`);
  return false;
}
