// The LogStore contract (src/logs/log-store.ts), run against every implementation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine, LogStore } from "../../src/logs/log-store";

export interface LogStoreHarness {
  store: LogStore;
  /** A job that lines can be attached to. */
  createJob(): Promise<number>;
  close(): Promise<void>;
}

export function line(text: string, overrides: Partial<LogLine> = {}): LogLine {
  return { at: 1_700_000_000_000, attempt: 1, step: 0, stream: "stdout", text, ...overrides };
}

function texts(count: number, prefix: string): LogLine[] {
  return Array.from({ length: count }, (_, i) => line(`${prefix}${i}`));
}

export function logStoreContract(name: string, open: () => Promise<LogStoreHarness>): void {
  describe(`LogStore contract: ${name}`, () => {
    let harness: LogStoreHarness;
    let store: LogStore;
    beforeAll(async () => {
      harness = await open();
      store = harness.store;
    });
    afterAll(async () => {
      await harness?.close();
    });

    it("numbers lines from 1 per job and continues across appends", async () => {
      const job = await harness.createJob();
      expect(await store.lineCount(job)).toBe(0);
      expect(await store.append(job, texts(3, "a"))).toEqual({ firstLine: 1, lastLine: 3 });
      expect(await store.append(job, texts(2, "b"))).toEqual({ firstLine: 4, lastLine: 5 });
      expect(await store.lineCount(job)).toBe(5);
      const lines = await store.read(job, { afterLine: 0, limit: 100 });
      expect(lines.map((l) => [l.number, l.text])).toEqual([
        [1, "a0"],
        [2, "a1"],
        [3, "a2"],
        [4, "b0"],
        [5, "b1"],
      ]);
    });

    it("keeps the jobs apart", async () => {
      const one = await harness.createJob();
      const two = await harness.createJob();
      await store.append(one, texts(2, "one"));
      expect(await store.append(two, texts(1, "two"))).toEqual({ firstLine: 1, lastLine: 1 });
      expect((await store.read(two, { afterLine: 0, limit: 10 })).map((l) => l.text)).toEqual(["two0"]);
      expect(await store.lineCount(one)).toBe(2);
    });

    it("stores nothing for an empty batch", async () => {
      const job = await harness.createJob();
      expect(await store.append(job, [])).toEqual({ firstLine: 1, lastLine: 0 });
      await store.append(job, texts(2, "x"));
      expect(await store.append(job, [])).toEqual({ firstLine: 3, lastLine: 2 });
      expect(await store.lineCount(job)).toBe(2);
    });

    it("gives every field back as it was appended", async () => {
      const job = await harness.createJob();
      const lines: LogLine[] = [
        { at: 1_700_000_000_123, attempt: 2, step: null, stream: "system", text: "cache restored" },
        { at: 1_700_000_000_124, attempt: 2, step: 3, stream: "stderr", text: 'quotes " \\ backslash \t tab' },
        { at: 1_700_000_000_125, attempt: 2, step: 0, stream: "stdout", text: "" },
        { at: 1_700_000_000_126, attempt: 2, step: 0, stream: "stdout", text: "ünïcødé 日本語 🚀 \u2028 sep" },
        { at: 1_700_000_000_127, attempt: 2, step: 0, stream: "stdout", text: "nul \u0000 and \u001b[31mcolour\u001b[0m" },
        { at: 1_700_000_000_128, attempt: 2, step: 0, stream: "stdout", text: "an embedded\nnewline and \r return" },
      ];
      await store.append(job, lines);
      const back = await store.read(job, { afterLine: 0, limit: 10 });
      expect(back).toEqual(lines.map((l, i) => ({ ...l, number: i + 1 })));
    });

    it("reads from a line in the middle of a batch, and across batches", async () => {
      const job = await harness.createJob();
      // Batches of 1, 7, 3, 10, 1 … lines.
      const sizes = [1, 7, 3, 10, 1, 5, 8];
      let n = 0;
      for (const size of sizes) {
        await store.append(
          job,
          Array.from({ length: size }, () => line(`line ${++n}`)),
        );
      }
      for (let after = 0; after <= n + 1; after++) {
        for (const limit of [1, 2, 4, 9, 100]) {
          const got = await store.read(job, { afterLine: after, limit });
          const expected = Array.from({ length: Math.max(0, Math.min(limit, n - after)) }, (_, i) => after + i + 1);
          expect(got.map((l) => l.number), `after ${after} limit ${limit}`).toEqual(expected);
          expect(got.map((l) => l.text)).toEqual(expected.map((k) => `line ${k}`));
        }
      }
    });

    it("returns nothing past the end and for an unknown job", async () => {
      const job = await harness.createJob();
      await store.append(job, texts(3, "z"));
      expect(await store.read(job, { afterLine: 3, limit: 10 })).toEqual([]);
      expect(await store.read(job, { afterLine: 50, limit: 10 })).toEqual([]);
      expect(await store.read(999_999_999, { afterLine: 0, limit: 10 })).toEqual([]);
      expect(await store.lineCount(999_999_999)).toBe(0);
    });

    it("gives concurrent appends to one job disjoint, gapless ranges", async () => {
      const job = await harness.createJob();
      const results = await Promise.all(Array.from({ length: 20 }, (_, k) => store.append(job, texts(1 + (k % 4), `c${k}-`))));
      const ranges = results.map((r) => [r.firstLine, r.lastLine] as const).sort((a, b) => a[0] - b[0]);
      let next = 1;
      for (const [first, last] of ranges) {
        expect(first).toBe(next);
        next = last + 1;
      }
      const total = results.reduce((sum, r) => sum + r.lastLine - r.firstLine + 1, 0);
      expect(await store.lineCount(job)).toBe(total);
      const all = await store.read(job, { afterLine: 0, limit: 1000 });
      expect(all.map((l) => l.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // Each batch is stored contiguously under the numbers it was given.
      for (const [k, result] of results.entries()) {
        const slice = all.slice(result.firstLine - 1, result.lastLine);
        expect(slice.map((l) => l.text)).toEqual(texts(1 + (k % 4), `c${k}-`).map((l) => l.text));
      }
    });

    it("numbers concurrent appends of one job in the order they were made", async () => {
      const job = await harness.createJob();
      const results = await Promise.all(Array.from({ length: 20 }, (_, k) => store.append(job, texts(1 + (k % 3), `o${k}-`))));
      for (let k = 1; k < results.length; k++) expect(results[k]!.firstLine).toBe(results[k - 1]!.lastLine + 1);
      expect(results[0]!.firstLine).toBe(1);
    });

    it("reads long logs page by page with nothing lost or repeated", async () => {
      const job = await harness.createJob();
      let n = 0;
      for (let batch = 0; batch < 40; batch++) {
        const size = 1 + ((batch * 37) % 61);
        await store.append(job, Array.from({ length: size }, () => line(`p${++n}`)));
      }
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await store.read(job, { afterLine: after, limit: 97 });
        if (page.length === 0) break;
        for (const l of page) seen.push(l.number);
        after = page[page.length - 1]!.number;
      }
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    });

    it("ends a page early once its text reaches maxBytes, with at least one line", async () => {
      const job = await harness.createJob();
      await store.append(job, [line("a".repeat(10)), line("b".repeat(10)), line("c".repeat(10))]);
      await store.append(job, [line("d".repeat(10))]);
      const page = (maxBytes: number, afterLine = 0) => store.read(job, { afterLine, limit: 10, maxBytes }).then((lines) => lines.map((l) => l.number));
      expect(await page(1)).toEqual([1]);
      expect(await page(10)).toEqual([1]);
      expect(await page(11)).toEqual([1, 2]);
      expect(await page(25, 1)).toEqual([2, 3, 4]);
      expect(await page(1000, 2)).toEqual([3, 4]);
    });

    it("deletes a job's lines; numbering starts again", async () => {
      const job = await harness.createJob();
      await store.append(job, texts(4, "d"));
      await store.delete(job);
      expect(await store.lineCount(job)).toBe(0);
      expect(await store.read(job, { afterLine: 0, limit: 10 })).toEqual([]);
      expect(await store.append(job, texts(1, "again"))).toEqual({ firstLine: 1, lastLine: 1 });
    });
  });
}
