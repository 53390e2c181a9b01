// Container logs as the kubelet serves them through GET pods/{name}/log: one line per write, each
// optionally prefixed with its RFC3339Nano timestamp (Go's format: trailing zeros of the fraction
// trimmed) and a space; `follow` streams until the container terminates; `sinceTime` is applied
// at whole seconds (lines from the start of that second on); sinceSeconds, tailLines and limitBytes.
import type { ServerResponse } from "node:http";
import { badRequest } from "./kubernetes-status";

interface LogLine {
  stamp: string;
  /** Epoch seconds of the line's timestamp. */
  second: number;
  text: string;
}

interface Follower {
  response: ServerResponse;
  timestamps: boolean;
  /** Cut the next line in the middle and drop the connection. */
  cutNext: boolean;
}

interface ContainerLog {
  lines: LogLine[];
  followers: Set<Follower>;
}

// Wall-clock nanoseconds with hrtime's resolution and monotonicity.
const epochOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
let lastNanos = 0n;

function nowNanos(): bigint {
  let nanos = process.hrtime.bigint() + epochOffset;
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos;
}

/** Go's time.RFC3339Nano in UTC: "2024-05-01T10:00:00.12345Z" (no trailing zeros, no dot when whole). */
export function rfc3339Nano(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction === "" ? "" : `.${fraction}`}Z`;
}

function format(line: LogLine, timestamps: boolean): string {
  return timestamps ? `${line.stamp} ${line.text}\n` : `${line.text}\n`;
}

export interface LogQuery {
  follow: boolean;
  timestamps: boolean;
  sinceSecond?: number;
  tailLines?: number;
  limitBytes?: number;
}

export function parseLogQuery(query: URLSearchParams, nowMs: number): LogQuery {
  const flag = (name: string) => ["true", "1"].includes(query.get(name) ?? "");
  const number = (name: string) => {
    const text = query.get(name);
    if (text === null || text === "") return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0) throw badRequest(`${name}: Invalid value: ${JSON.stringify(text)}: must be a non-negative integer`);
    return value;
  };
  const sinceTime = query.get("sinceTime");
  const sinceSeconds = number("sinceSeconds");
  if (sinceTime && sinceSeconds !== undefined) throw badRequest("at most one of sinceTime or sinceSeconds may be specified");
  let sinceSecond: number | undefined;
  if (sinceTime) {
    const ms = Date.parse(sinceTime);
    if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\dT/.test(sinceTime)) throw badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
    sinceSecond = Math.floor(ms / 1000);
  } else if (sinceSeconds !== undefined) sinceSecond = Math.floor(nowMs / 1000) - sinceSeconds;
  return { follow: flag("follow"), timestamps: flag("timestamps"), sinceSecond, tailLines: number("tailLines"), limitBytes: number("limitBytes") };
}

export class LogBook {
  /** "namespace/pod" → container → its log, so a pod's logs go in one step. */
  private readonly pods = new Map<string, Map<string, ContainerLog>>();

  private log(key: string, create: boolean): ContainerLog | undefined {
    const cut = key.lastIndexOf("/");
    const podKey = key.slice(0, cut);
    let containers = this.pods.get(podKey);
    if (!containers) {
      if (!create) return undefined;
      this.pods.set(podKey, (containers = new Map()));
    }
    let log = containers.get(key.slice(cut + 1));
    if (!log && create) containers.set(key.slice(cut + 1), (log = { lines: [], followers: new Set() }));
    return log;
  }

  /** Appends one line per "\n"-separated part of `text` to a container's log ("namespace/pod/container"). */
  append(key: string, text: string): void {
    const log = this.log(key, true)!;
    for (const part of text.split("\n")) {
      const nanos = nowNanos();
      const line: LogLine = { stamp: rfc3339Nano(nanos), second: Number(nanos / 1_000_000_000n), text: part };
      log.lines.push(line);
      for (const follower of log.followers) {
        const formatted = format(line, follower.timestamps);
        if (follower.cutNext) {
          const socket = follower.response.socket;
          follower.response.write(formatted.slice(0, Math.max(1, Math.floor(formatted.length / 2))), () => socket?.destroy());
          log.followers.delete(follower);
        } else follower.response.write(formatted);
      }
    }
  }

  /** The container terminated: follow streams end after what they have. */
  end(key: string): void {
    const log = this.log(key, false);
    if (!log) return;
    for (const follower of log.followers) follower.response.end();
    log.followers.clear();
  }

  /** The pod ("namespace/pod") is gone: its logs with it. */
  forget(podKey: string): void {
    for (const log of this.pods.get(podKey)?.values() ?? []) {
      for (const follower of log.followers) follower.response.end();
    }
    this.pods.delete(podKey);
  }

  lines(key: string): string[] {
    return (this.log(key, false)?.lines ?? []).map((line) => line.text);
  }

  serve(key: string, query: LogQuery, running: boolean, response: ServerResponse): void {
    const log = this.log(key, true)!;
    let lines = query.sinceSecond === undefined ? log.lines : log.lines.filter((line) => line.second >= query.sinceSecond!);
    if (query.tailLines !== undefined) lines = lines.slice(Math.max(0, lines.length - query.tailLines));
    response.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
    const text = lines.map((line) => format(line, query.timestamps)).join("");
    if (query.limitBytes !== undefined && Buffer.byteLength(text) >= query.limitBytes) {
      response.end(Buffer.from(text).subarray(0, query.limitBytes));
      return;
    }
    if (!query.follow || !running) {
      response.end(text);
      return;
    }
    if (text !== "") response.write(text);
    else response.flushHeaders();
    const follower: Follower = { response, timestamps: query.timestamps, cutNext: false };
    log.followers.add(follower);
    response.on("close", () => log.followers.delete(follower));
  }

  /** Open follow streams. */
  followers(): Follower[] {
    return [...this.pods.values()].flatMap((containers) => [...containers.values()].flatMap((log) => [...log.followers]));
  }

  /** Destroys every follow stream's socket now, between lines. */
  dropAll(): number {
    const all = this.followers();
    for (const follower of all) follower.response.socket?.destroy();
    return all.length;
  }

  /** Every open follow stream sends half of its next line, then its socket is destroyed. */
  cutAll(): number {
    const all = this.followers();
    for (const follower of all) follower.cutNext = true;
    return all.length;
  }
}
