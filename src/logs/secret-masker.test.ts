import { describe, expect, it } from "vitest";
import { base64Cores, SecretMasker, StreamMasker } from "./secret-masker";

/** Feeds `text` to a StreamMasker cut at the given positions. */
function streamed(masker: SecretMasker, text: string, cuts: number[]): string {
  const stream = new StreamMasker(masker);
  let out = "";
  let from = 0;
  for (const cut of cuts) {
    out += stream.push(text.slice(from, cut));
    from = cut;
  }
  out += stream.push(text.slice(from));
  return out + stream.flush();
}

describe("SecretMasker", () => {
  it("masks every occurrence of a value", () => {
    const masker = new SecretMasker(["hunter2"]);
    expect(masker.maskLine("password=hunter2, again hunter2.")).toBe("password=***, again ***.");
    expect(masker.maskLine("nothing here")).toBe("nothing here");
  });

  it("masks the longest value first, so no part of it survives", () => {
    const masker = new SecretMasker(["abc", "abcdef"]);
    expect(masker.maskLine("x abcdef y abc")).toBe("x *** y ***");
  });

  it("masks overlapping and adjacent values as one run", () => {
    const masker = new SecretMasker(["abcdef", "defghi"]);
    expect(masker.maskLine("<abcdefghi>")).toBe("<***>");
    expect(masker.maskLine("<abcdefdefghi>")).toBe("<***>");
  });

  it("takes values literally, regular-expression characters included", () => {
    const values = ["a.c", "x*y+z?", "(p|q)", "^s$", "[br]{2}", "back\\slash", "sl/ash"];
    const masker = new SecretMasker(values);
    for (const value of values) expect(masker.maskLine(`<${value}>`), value).toBe("<***>");
    expect(masker.maskLine("abc xxy p q s br br backslash")).toBe("abc xxy p q s br br backslash");
  });

  it("ignores empty and whitespace-only values", () => {
    const masker = new SecretMasker(["", "   ", "\n\t", "tok3n"]);
    expect(masker.values).toEqual(["tok3n"]);
    expect(masker.maskLine("a b  c tok3n")).toBe("a b  c ***");
  });

  it("masks each line of a multi-line value separately", () => {
    const key = "-----BEGIN KEY-----\r\nMIIEvQIBADANBg\n\n-----END KEY-----";
    const masker = new SecretMasker([key]);
    expect(masker.maskLine("line: MIIEvQIBADANBg")).toBe("line: ***");
    expect(masker.maskLine("-----END KEY----- done")).toBe("*** done");
    expect(masker.maskLine(key)).toBe("***");
  });

  it("masks the base64 forms of a value at every byte offset", () => {
    const secret = "s3cr3t-Value!";
    const masker = new SecretMasker([secret]);
    for (const prefix of ["", "a", "ab", "abc", "user:", "üser:"]) {
      for (const suffix of ["", "x", "xy", ":tail"]) {
        const encoded = Buffer.from(prefix + secret + suffix).toString("base64");
        const masked = masker.maskLine(`Authorization: Basic ${encoded}`);
        expect(masked, `${prefix}|${suffix}`).toContain("***");
        // What is left of the encoding must not decode to the secret any more.
        const left = masked.replace("Authorization: Basic ", "").replace("***", "");
        expect(Buffer.from(left, "base64").toString("latin1")).not.toContain(secret);
      }
    }
  });

  it("computes the stable base64 cores", () => {
    // "abcdef": aligned it is exactly "YWJjZGVm"; shifted, the edge characters depend on neighbours.
    expect(base64Cores("abcdef")).toEqual(["YWJjZGVm", "FiY2RlZ", "hYmNkZW"]);
    for (const [offset, core] of base64Cores("abcdef").entries()) {
      const encoded = Buffer.concat([Buffer.from("xyz".slice(0, offset)), Buffer.from("abcdef!")]).toString("base64");
      expect(encoded).toContain(core);
    }
  });

  it("does not add base64 forms for values shorter than 6 characters", () => {
    expect(new SecretMasker(["abcde"]).values).toEqual(["abcde"]);
  });

  it("reports the longest value's length", () => {
    expect(new SecretMasker([]).maxLength).toBe(0);
    expect(new SecretMasker(["abc", "abcdef"]).maxLength).toBe(8); // "YWJjZGVm", its base64 form
    expect(new SecretMasker(["abc", "abcde"]).maxLength).toBe(5);
  });
});

describe("StreamMasker", () => {
  const secrets = ["hunter2", "abcdef", "defghi", "aaa", "p@ss\nword"];
  const masker = new SecretMasker(secrets);
  const texts = [
    "password=hunter2 and hunter2hunter2 done",
    "xx abcdefghi yy abcdef zz defghi",
    "aaaaaaa b aa a aaa",
    "multi p@ss\nword and p@ss alone and word alone",
    `b64 ${Buffer.from("abcdef").toString("base64")} ${Buffer.from("-abcdef").toString("base64")} end`,
    "hunter",
    "no secrets at all in this text",
  ];

  it("gives the same result as maskLine for every single split position", () => {
    for (const text of texts) {
      const expected = masker.maskLine(text);
      for (let cut = 0; cut <= text.length; cut++) {
        expect(streamed(masker, text, [cut]), `${JSON.stringify(text)} cut at ${cut}`).toBe(expected);
      }
    }
  });

  it("gives the same result when split at every pair of positions", () => {
    for (const text of texts) {
      const expected = masker.maskLine(text);
      for (let a = 0; a <= text.length; a++) {
        for (let b = a; b <= text.length; b++) {
          expect(streamed(masker, text, [a, b]), `${JSON.stringify(text)} cut at ${a},${b}`).toBe(expected);
        }
      }
    }
  });

  it("gives the same result when fed one character at a time", () => {
    for (const text of texts) {
      const cuts = Array.from({ length: text.length }, (_, i) => i);
      expect(streamed(masker, text, cuts)).toBe(masker.maskLine(text));
    }
  });

  it("survives random chunkings of random text", () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "hunter2", "\n", " "];
    for (let round = 0; round < 300; round++) {
      const text = Array.from({ length: 5 + random(60) }, () => alphabet[random(alphabet.length)]).join("");
      const cuts = [...new Set(Array.from({ length: random(8) }, () => random(text.length + 1)))].sort((x, y) => x - y);
      expect(streamed(masker, text, cuts), `${JSON.stringify(text)} ${cuts.join(",")}`).toBe(masker.maskLine(text));
    }
  });

  it("holds back only what could start a value, and at most maxLength-1 characters", () => {
    const stream = new StreamMasker(["hunter2"]);
    expect(stream.push("user hunt")).toBe("user ");
    expect(stream.push("er2 ok hun")).toBe("*** ok ");
    expect(stream.push("gry")).toBe("hungry");
    expect(stream.flush()).toBe("");
    const big = new StreamMasker(["hunter2"]);
    expect(big.push("x".repeat(100))).toBe("x".repeat(100));
    expect(big.push("h".repeat(100))).toBe("h".repeat(99));
    expect(big.flush()).toBe("h");
  });

  it("passes text through when there are no secrets", () => {
    const stream = new StreamMasker([]);
    expect(stream.push("abc")).toBe("abc");
    expect(stream.flush()).toBe("");
  });
});
