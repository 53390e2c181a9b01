// Follows one container's log until the container has ended and every line of it was read. A
// connection that drops, or ends while the container still runs, is opened again from the cursor
// (see log-cursor.ts), so lines are neither lost nor repeated.
import type { KubeClient } from "./kube-client";
import { KubeApiError } from "./kube-errors";
import { admitLine, advanceCursor, parseTimestampedLine, sinceTimeFor, type LogCursor } from "./log-cursor";

export interface ContainerLogTarget {
  client: KubeClient;
  namespace: string;
  pod: string;
  container: string;
}

export interface FollowOptions {
  cursor: LogCursor;
  onLine(text: string, at: number, cursor: LogCursor): void;
  /** The container has terminated (known from the watch): a clean end of the stream then means the whole log was read. */
  isTerminated(): boolean;
  /** The pod no longer exists: there is nothing left to read. */
  isGone(): boolean;
  /** Resolves at the next change of the pod, or after `ms`. */
  nextChange(ms: number): Promise<void>;
  onError?(error: unknown, context: string): void;
  /** Counts log requests (benchmark, metrics). */
  onRequest?(): void;
}

export interface LogFollow {
  /** The cursor after the last line taken. */
  done: Promise<LogCursor>;
  /** Stops following (the pod is being abandoned, e.g. on shutdown). */
  stop(): void;
}

export function followContainerLog(target: ContainerLogTarget, options: FollowOptions): LogFollow {
  let stopped = false;
  let abortCurrent: (() => void) | undefined;
  const done = (async (): Promise<LogCursor> => {
    let cursor = options.cursor;
    let failures = 0;
    while (!stopped) {
      if (options.isGone()) return cursor;
      const base = cursor;
      let ordinal = 0;
      let pending = "";
      let previousAt = cursor.lastAt;
      const take = (line: string): void => {
        // A line ended by \r\n is the same line as one ended by \n.
        const { at, text } = parseTimestampedLine(line.endsWith("\r") ? line.slice(0, -1) : line, previousAt);
        previousAt = at;
        if (at === base.lastAt) ordinal++;
        if (!admitLine(base, at, ordinal)) return;
        cursor = advanceCursor(cursor, at);
        options.onLine(text, at, cursor);
      };
      const terminatedBefore = options.isTerminated();
      let result: "ended" | "dropped";
      try {
        options.onRequest?.();
        const since = sinceTimeFor(base);
        const stream = await target.client.streamLog(target.namespace, target.pod, target.container, { follow: true, ...(since ? { sinceTime: since } : {}) }, (piece) => {
          pending += piece;
          let newline = pending.indexOf("\n");
          while (newline >= 0) {
            take(pending.slice(0, newline));
            pending = pending.slice(newline + 1);
            newline = pending.indexOf("\n");
          }
        });
        abortCurrent = stream.abort;
        result = await stream.done;
        abortCurrent = undefined;
      } catch (error) {
        if (stopped) break;
        if (error instanceof KubeApiError && error.status === 404) return cursor;
        // 400: the container has not started yet ("is waiting to start"). Wait for the pod to move.
        if (!(error instanceof KubeApiError && error.status === 400)) options.onError?.(error, `reading the log of ${target.pod}/${target.container}`);
        await options.nextChange(Math.min(5000, 200 * 2 ** failures++));
        continue;
      }
      // Only a stream opened after the container ended is known to hold its whole log: one that ended
      // as the container ended might have been closed for another reason just before.
      if (result === "ended" && terminatedBefore) {
        // A last line without its newline is whole once the container has ended.
        if (pending) take(pending);
        return cursor;
      }
      // Dropped, or ended while the container still runs: read again from the cursor (what was
      // half-received is read again whole).
      if (result === "dropped") failures++;
      if (result === "dropped" || !options.isTerminated()) await options.nextChange(result === "dropped" ? Math.min(5000, 100 * 2 ** failures) : 250);
    }
    return cursor;
  })();
  return {
    done,
    stop() {
      stopped = true;
      abortCurrent?.();
    },
  };
}
