// Server-Sent Events read from a fetch body, so following logs needs no EventSource: the bytes are
// decoded as they arrive and cut into events at blank lines (line ends CRLF, LF or CR, as the
// format allows). An event still incomplete when the body ends is dropped, never half-delivered —
// the caller resumes after the last whole one.

export interface StreamEvent {
  /** `event:`, "message" when absent. */
  event: string;
  data: string;
  /** `id:` of this event, when it had one. */
  id?: string;
}

export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let current: { event?: string; data?: string; id?: string } = {};
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const end = lineEnd(buffer, start);
        if (end === -1) break;
        const line = buffer.slice(start, end);
        start = end + (buffer[end] === "\r" && buffer[end + 1] === "\n" ? 2 : 1);
        if (line === "") {
          if (current.data !== undefined) yield { event: current.event || "message", data: current.data, ...(current.id !== undefined ? { id: current.id } : {}) };
          current = {};
          continue;
        }
        if (line.startsWith(":")) continue; // a comment: the server's heartbeat
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") current.data = current.data === undefined ? value : `${current.data}\n${value}`;
        else if (field === "event") current.event = value;
        else if (field === "id" && !value.includes("\0")) current.id = value;
        // `retry:` and unknown fields: the reconnection delay is the caller's own policy.
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** Index of the next line end at or after `from`; -1 when none yet (a lone CR at the end may be half of CRLF). */
function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const char = text[i];
    if (char === "\n") return i;
    if (char === "\r") return i + 1 < text.length ? i : -1;
  }
  return -1;
}
