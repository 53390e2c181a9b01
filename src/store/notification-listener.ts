// LISTEN for PostgreSQL on one dedicated connection. A pooled connection cannot be used: LISTEN is
// session state, and the pool would hand the session to someone else. When the connection drops,
// it reconnects with backoff, LISTENs again to every channel, and tells each subscriber to look at
// the database again (onResync), since notifications sent meanwhile were not delivered to anyone.
import pg from "pg";
import type { NotificationHandler } from "./database";

interface Subscriber {
  handler: NotificationHandler;
  onResync: (() => void) | undefined;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class NotificationListener {
  private readonly channels = new Map<string, Set<Subscriber>>();
  private current: pg.Client | undefined;
  private opening: Promise<pg.Client> | undefined;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly onError: (error: Error) => void,
  ) {}

  async add(channel: string, handler: NotificationHandler, onResync?: () => void): Promise<() => Promise<void>> {
    if (this.closed) throw new Error("the database is closed");
    const subscriber: Subscriber = { handler, onResync };
    let subscribers = this.channels.get(channel);
    if (!subscribers) this.channels.set(channel, (subscribers = new Set()));
    subscribers.add(subscriber);
    try {
      // LISTEN twice is a no-op, so there is no need to track which channels this session has.
      const client = this.current ?? (await this.open());
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      this.remove(channel, subscriber);
      throw error;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      if (this.remove(channel, subscriber) && this.current) {
        await this.current.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const client = this.current ?? (await this.opening?.catch(() => undefined));
    this.current = undefined;
    await client?.end().catch(() => {});
  }

  /** True when the channel has no subscriber left. */
  private remove(channel: string, subscriber: Subscriber): boolean {
    const subscribers = this.channels.get(channel);
    if (!subscribers) return false;
    subscribers.delete(subscriber);
    if (subscribers.size > 0) return false;
    this.channels.delete(channel);
    return true;
  }

  private open(): Promise<pg.Client> {
    this.opening ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on("error", (error) => this.lost(client, error));
      client.on("end", () => this.lost(client));
      client.on("notification", (message) => this.dispatch(message.channel, message.payload ?? ""));
      try {
        await client.connect();
        for (const channel of this.channels.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (this.closed) {
        await client.end().catch(() => {});
        throw new Error("the database is closed");
      }
      this.current = client;
      return client;
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private lost(client: pg.Client, error?: Error): void {
    if (error) this.onError(error);
    if (client !== this.current) return;
    this.current = undefined;
    client.end().catch(() => {});
    if (!this.closed && this.channels.size > 0) this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.open().then(
        () => {
          this.retryMs = FIRST_RETRY_MS;
          for (const subscribers of this.channels.values()) {
            for (const subscriber of subscribers) this.safely(() => subscriber.onResync?.());
          }
        },
        (error: Error) => {
          this.onError(error);
          this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
          this.reconnectLater();
        },
      );
    }, this.retryMs);
  }

  private dispatch(channel: string, payload: string): void {
    for (const subscriber of this.channels.get(channel) ?? []) this.safely(() => subscriber.handler(payload));
  }

  /** A throwing handler must not break delivery to the others, nor the connection's event loop. */
  private safely(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
