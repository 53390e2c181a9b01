// Watch requests (`?watch=true`): newline-delimited JSON events on a chunked 200 answer, as the API
// server streams them. Without a resourceVersion (or "0") the watch starts with an ADDED event per
// existing object; with one it replays the kept history after it, or sends one ERROR event holding
// a 410 Expired Status and ends when that history is gone. BOOKMARK events (allowWatchBookmarks)
// carry the latest resourceVersion; timeoutSeconds ends the stream cleanly.
import type { ServerResponse } from "node:http";
import { deliver, type EventType, type ResourceStore, type StoredEvent, type Watcher } from "./kubernetes-store";
import type { Matcher } from "./kubernetes-selectors";
import { badRequest, expired } from "./kubernetes-status";
import type { KubeObject } from "./kubernetes-types";

export interface WatchSettings {
  /** How often BOOKMARK events go to watches that allow them (the real server: about a minute). */
  bookmarkIntervalMs: number;
  /** The longest a watch stays open when the client sets no timeoutSeconds (the server's --min-request-timeout). */
  maxTimeoutSeconds: number;
}

interface OpenWatch {
  response: ServerResponse;
  bookmark(): void;
}

const lineCache = new WeakMap<StoredEvent, Map<EventType, string>>();

function eventLine(type: EventType, event: StoredEvent): string {
  let lines = lineCache.get(event);
  if (!lines) lineCache.set(event, (lines = new Map()));
  let line = lines.get(type);
  if (line === undefined) {
    line = `${JSON.stringify({ type, object: event.object })}\n`;
    lines.set(type, line);
  }
  return line;
}

export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly settings: WatchSettings,
    private readonly currentVersion: () => number,
  ) {}

  get count(): number {
    return this.open.size;
  }

  serve(store: ResourceStore<KubeObject>, namespace: string | undefined, query: URLSearchParams, matches: Matcher, response: ServerResponse): void {
    const requested = query.get("resourceVersion") ?? "";
    const from = requested === "" || requested === "0" ? undefined : Number(requested);
    if (from !== undefined && !Number.isSafeInteger(from)) throw badRequest(`invalid resource version: ${JSON.stringify(requested)}`);
    const timeoutSeconds = Math.min(Number(query.get("timeoutSeconds") ?? this.settings.maxTimeoutSeconds) || this.settings.maxTimeoutSeconds, this.settings.maxTimeoutSeconds);
    const bookmarks = ["true", "1"].includes(query.get("allowWatchBookmarks") ?? "");

    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private", "transfer-encoding": "chunked" });
    // The server answers at once; the client's watch() resolves on these headers, before any event.
    response.flushHeaders();
    const backlog = from === undefined ? undefined : store.eventsSince(from);
    if (backlog === "expired") {
      const status = expired(`too old resource version: ${from} (${store.oldestResumable + 1})`);
      response.end(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
      return;
    }
    const watcher: Watcher = {
      namespace,
      matches,
      send: (type, event) => {
        response.write(eventLine(type, event));
      },
    };
    if (backlog === undefined) {
      for (const object of store.list(namespace)) {
        if (matches(object)) response.write(`${JSON.stringify({ type: "ADDED", object })}\n`);
      }
    } else {
      for (const event of backlog) deliver(watcher, event);
    }
    store.addWatcher(watcher);

    const entry: OpenWatch = {
      response,
      bookmark: () => {
        if (!bookmarks) return;
        const object = { kind: store.kind, apiVersion: "v1", metadata: { resourceVersion: String(this.currentVersion()), creationTimestamp: null } };
        response.write(`${JSON.stringify({ type: "BOOKMARK", object })}\n`);
      },
    };
    this.open.add(entry);
    const bookmarkTimer = bookmarks ? setInterval(entry.bookmark, this.settings.bookmarkIntervalMs) : undefined;
    const timeout = setTimeout(() => response.end(), timeoutSeconds * 1000);
    response.on("close", () => {
      store.removeWatcher(watcher);
      this.open.delete(entry);
      clearInterval(bookmarkTimer);
      clearTimeout(timeout);
    });
  }

  /** Sends a BOOKMARK now to every open watch that allows them. */
  bookmarkAll(): void {
    for (const entry of this.open) entry.bookmark();
  }

  /** Destroys every open watch's socket without ending the chunked stream (a dropped connection). */
  dropAll(): number {
    const count = this.open.size;
    for (const entry of [...this.open]) entry.response.socket?.destroy();
    return count;
  }
}
