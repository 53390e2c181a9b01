// The pod's side of the runner API: tars streamed down and up with the job's token, every
// transfer retried whole (a fresh request, a fresh body) on transient failures.
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { DEFAULT_RETRY, HttpStatusError, withRetry, type RetryPolicy } from "./retry";

export class RunnerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly log: (text: string) => void,
    private readonly policy: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /**
   * GETs `path` and hands the body to `consume` inside the retry, so a download broken half-way
   * starts again. Undefined on 404.
   */
  download<T>(what: string, path: string, consume: (body: AsyncIterable<Uint8Array>, response: Response) => Promise<T>): Promise<T | undefined> {
    return withRetry(
      what,
      async () => {
        const response = await fetch(this.url(path), { headers: this.headers() });
        if (response.status === 404) {
          await response.body?.cancel();
          return undefined;
        }
        if (!response.ok) throw await statusError(response, `GET ${path}`);
        return consume(response.body ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>) : Readable.from([]), response);
      },
      this.policy,
      this.log,
    );
  }

  /** PUTs the stream `body()` makes (once per attempt); resolves with the status when it is one of `accept`. */
  upload(what: string, path: string, body: () => Readable, accept: readonly number[]): Promise<number> {
    return withRetry(
      what,
      async () => {
        const response = await fetch(this.url(path), {
          method: "PUT",
          headers: { ...this.headers(), "Content-Type": "application/x-tar" },
          body: body(),
          duplex: "half",
        });
        if (!accept.includes(response.status)) throw await statusError(response, `PUT ${path}`);
        await response.body?.cancel();
        return response.status;
      },
      this.policy,
      this.log,
    );
  }

  private url(path: string): string {
    return `${this.baseUrl}/runner/v1${path}`;
  }

  private headers(): Record<string, string> {
    return { Authorization: `Bearer ${this.token}` };
  }
}

/** The API's own `{ error: { message } }` when it sent one. */
async function statusError(response: Response, what: string): Promise<HttpStatusError> {
  const text = await response.text().catch(() => "");
  let message = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) message = parsed.error.message;
  } catch {
    // not JSON: keep the text
  }
  return new HttpStatusError(response.status, `${what} answered ${response.status}${message ? `: ${message}` : ""}`);
}
