import { describe, expect, it } from "vitest";
import { LiteralSearch } from "../../src/logs/literal-search";

/** Every [start, end) of every value, by indexOf: the oracle. */
function naive(values: readonly string[], text: string): string[] {
  const found: string[] = [];
  for (const value of values) {
    for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) found.push(`${at}-${at + value.length}`);
  }
  return found.sort();
}

/** What forEach reports, sorted; "out of order" when a start comes before the one before it. */
function searched(search: LiteralSearch, text: string): string[] {
  const found: string[] = [];
  let last = -1;
  search.forEach(text, (start, end) => {
    if (start < last) found.push("out of order");
    last = start;
    found.push(`${start}-${end}`);
  });
  return found.sort();
}

function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

describe("LiteralSearch", () => {
  it("finds every occurrence, overlapping ones and several values at one place included", () => {
    const search = new LiteralSearch(["aaa", "aab", "hunter2", "hunter2-long"]);
    expect(searched(search, "aaaab hunter2-long hunter2")).toEqual(["0-3", "1-4", "2-5", "6-13", "6-18", "19-26"].sort());
    expect(search.test("xx hunter2")).toBe(true);
    expect(search.test("xx hunter")).toBe(false);
    expect(search.test("")).toBe(false);
  });

  it("handles one-character values, and a value at the very start and end", () => {
    const search = new LiteralSearch(["x", "xyz"]);
    expect(searched(search, "xyzabcx")).toEqual(["0-1", "0-3", "6-7"]);
    expect(search.test("abc")).toBe(false);
  });

  it("agrees with indexOf on random text, whatever the values", () => {
    const alphabets = ["ab", "abc", "abcdefghij0123456789", "aé日🚀\n ", "\u0000\uffff\ud800\udc00a"];
    for (let round = 0; round < 2000; round++) {
      const r = random(round + 1);
      const alphabet = [...alphabets[r(alphabets.length)]!];
      const word = (length: number) => Array.from({ length }, () => alphabet[r(alphabet.length)]).join("");
      const values = [...new Set(Array.from({ length: 1 + r(6) }, () => word(1 + r(r(2) === 0 ? 3 : 30))))];
      const search = new LiteralSearch(values);
      // Text made of the alphabet and pieces of the values, so occurrences are frequent.
      let text = "";
      while (text.length < r(300)) text += r(3) === 0 ? values[r(values.length)]!.slice(r(4)) : word(1 + r(8));
      const expected = naive(values, text);
      const got = searched(search, text);
      // Plain comparison first: an expect() per round would make this test slow.
      if (got.join() !== expected.join() || search.test(text) !== expected.length > 0) {
        const context = `round ${round}: ${JSON.stringify(values)} in ${JSON.stringify(text)}`;
        expect(got, context).toEqual(expected);
        expect(search.test(text), context).toBe(expected.length > 0);
      }
    }
  });

  it("refuses an empty value", () => {
    expect(() => new LiteralSearch([])).toThrow(TypeError);
    expect(() => new LiteralSearch(["a", ""])).toThrow(TypeError);
  });
});
