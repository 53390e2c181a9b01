// `gust token create | list | revoke` against the embedded database of a data directory: the token
// is printed once, alone on standard output, and verifies with its scopes until it is revoked.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { openAdmin } from "../../src/main/admin";
import { gust } from "../helpers/gust-cli";

describe("gust token", () => {
  let dataDir: string;
  const env = { DATABASE_URL: "", GUST_DATABASE_URL: "" };
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-token-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Each token's verification, in one session (opening the embedded database takes a while). */
  async function verify(...tokens: string[]) {
    const admin = await openAdmin(loadConfig({ argv: ["--data-dir", dataDir], env: {}, readFile: () => "" }), () => undefined);
    try {
      return await Promise.all(tokens.map((token) => admin.tokens.verifyToken(token)));
    } finally {
      await admin.close();
    }
  }

  it("creates, lists and revokes tokens", async () => {
    const created = await gust(["token", "create", "--name", "deploy bot", "--scope", "write", "--scope", "read", "--expires-in-days", "7", "--data-dir", dataDir], { env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^gust_[A-Za-z0-9_-]{43}\n$/);
    expect(created.stderr).toMatch(/created token 1 'deploy bot' \(write, read, expires \d{4}-\d\d-\d\d \d\d:\d\d UTC\); it is shown this once/);
    const token = created.stdout.trim();
    const reader = await gust(["token", "create", "--name", "dashboard", "--data-dir", dataDir], { env });
    expect(reader.code, reader.stderr).toBe(0);
    expect(await verify(token, reader.stdout.trim())).toEqual([
      { id: 1, name: "deploy bot", scopes: ["write", "read"] },
      { id: 2, name: "dashboard", scopes: ["read"] },
    ]);

    const list = await gust(["token", "list", "--data-dir", dataDir], { env });
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ {3}1 {2}deploy bot +write,read +created .* (never used|used .*) {2}expires \d{4}-/);
    expect(lines[1]).toMatch(/^ {3}2 {2}dashboard +read +created /);
    expect(list.stdout).not.toContain(token);

    const revoked = await gust(["token", "revoke", "1", "--data-dir", dataDir], { env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain("token 1 revoked");
    expect(await verify(token, reader.stdout.trim())).toEqual([undefined, expect.objectContaining({ id: 2 })]);
    const again = await gust(["token", "revoke", "1", "--data-dir", dataDir], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("no token 1");
  }, 300_000);

  it("refuses bad arguments with a clear message and changes nothing", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["token", "create"], /needs --name NAME/],
      [["token", "create", "--name", "x", "--scope", "root"], /--scope must be one of read, write, admin, got 'root'/],
      [["token", "create", "--name", "x", "--expires-in-days", "soon"], /--expires-in-days expects a whole number/],
      [["token", "revoke"], /needs the token's ID/],
      [["token", "revoke", "abc"], /needs the token's ID/],
      [["token", "rotate"], /unknown action 'rotate'/],
    ];
    for (const [args, message] of cases) {
      const result = await gust([...args, "--data-dir", dataDir], { env });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(message);
    }
    const list = await gust(["token", "list", "--data-dir", dataDir], { env });
    expect(list.stdout).not.toMatch(/\bx\b/);
    const help = await gust(["token", "--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("gust token create --name NAME");
  }, 300_000);
});
