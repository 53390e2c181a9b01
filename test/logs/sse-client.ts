// A minimal EventSource for tests: a real HTTP request, the response parsed into events as bytes
// arrive, comments kept (heartbeats), and a way to hang up.
import { request, type IncomingMessage } from "node:http";

export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseConnection {
  status: number;
  headers: IncomingMessage["headers"];
  events: SseEvent[];
  comments: string[];
  /** Body text of a non-stream response. */
  body(): Promise<string>;
  /** Resolves once `predicate` holds for what was received (rejects if the stream ends first). */
  until(predicate: (connection: SseConnection) => boolean, what?: string): Promise<void>;
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      res.setEncoding("utf8");
      let buffer = "";
      let raw = "";
      let finished = false;
      const waiters = new Set<() => void>();
      const connection: SseConnection = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        events: [],
        comments: [],
        body: async () => {
          await connection.ended;
          return raw;
        },
        until(predicate, what = "events") {
          return new Promise<void>((done, fail) => {
            const check = () => {
              if (predicate(connection)) {
                waiters.delete(check);
                done();
              } else if (finished) {
                waiters.delete(check);
                fail(new Error(`stream ended before ${what}: ${JSON.stringify(connection.events.slice(-3))}`));
              }
            };
            waiters.add(check);
            check();
          });
        },
        ended: new Promise<void>((done) => {
          res.on("close", () => {
            finished = true;
            done();
            for (const waiter of [...waiters]) waiter();
          });
        }),
        close: () => req.destroy(),
      };
      res.on("data", (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          let hasField = false;
          for (const field of block.split("\n")) {
            if (field.startsWith(":")) {
              connection.comments.push(field.slice(1).trim());
              continue;
            }
            const colon = field.indexOf(":");
            const name = colon === -1 ? field : field.slice(0, colon);
            const value = colon === -1 ? "" : field.slice(colon + 1).replace(/^ /, "");
            if (name === "id") event.id = value;
            else if (name === "event") event.event = value;
            else if (name === "data") event.data += (event.data === "" ? "" : "\n") + value;
            else continue;
            hasField = true;
          }
          if (hasField && (event.data !== "" || event.id !== undefined)) connection.events.push(event);
        }
        for (const waiter of [...waiters]) waiter();
      });
      resolve(connection);
    });
    req.on("error", (error) => {
      if ((error as NodeJS.ErrnoException).code !== "ECONNRESET") reject(error);
    });
    req.end();
  });
}
