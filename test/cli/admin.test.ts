// `gust repo` and `gust secret` against the embedded database of a data directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openAdmin } from "../../src/main/admin";
import { loadConfig } from "../../src/config";
import { gust } from "../helpers/gust-cli";

describe("gust repo and gust secret", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "gust-admin-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("adds repositories with sealed credentials, lists them, and keeps secrets off the command line", async () => {
    const env = { GITHUB_TOKEN: "ghp_admin_test_token", DATABASE_URL: "", GUST_DATABASE_URL: "" };
    const added = await gust(["repo", "add", "github", "acme/app", "--data-dir", dataDir], { env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/added github repository acme\/app \(id 1\)/);
    expect(added.stdout).toMatch(/webhook URL: +<public URL>\/hooks\/github\/1/);
    const secret = /webhook secret: (\S+)/.exec(added.stdout)![1]!;
    expect(added.stderr).toContain("generated a master key");

    const local = await gust(["repo", "add", "local", ".", "--data-dir", dataDir], { env });
    expect(local.code, local.stderr).toBe(0);
    const missingToken = await gust(["repo", "add", "gitlab", "group/project", "--data-dir", dataDir], { env });
    expect(missingToken.code).toBe(2);
    expect(missingToken.stderr).toContain("environment variable GITLAB_TOKEN is not set");
    const duplicate = await gust(["repo", "add", "github", "acme/app", "--data-dir", dataDir], { env });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain("already exists");

    const set = await gust(["secret", "set", "acme/app", "DEPLOY_KEY", "--data-dir", dataDir], { env, stdin: "dk-0123456789\n" });
    expect(set.code, set.stderr).toBe(0);
    const list = await gust(["secret", "list", "1", "--data-dir", dataDir], { env });
    expect(list.stdout).toBe("DEPLOY_KEY\n");
    const repos = await gust(["repo", "list", "--data-dir", dataDir], { env });
    expect(repos.stdout).toMatch(/1 +github +acme\/app/);
    expect(repos.stdout).toMatch(/2 +local +\//);

    // What was stored is sealed, and opens to what was given.
    const admin = await openAdmin(loadConfig({ argv: ["--data-dir", dataDir], env: {}, readFile: () => "" }), () => undefined);
    try {
      expect(await admin.repositories.credentials(1)).toEqual({ token: "ghp_admin_test_token" });
      expect(await admin.repositories.webhookSecrets(1)).toEqual([secret]);
      expect(await admin.repositories.secretsForJob(1, ["DEPLOY_KEY"], { fromFork: false })).toEqual({ DEPLOY_KEY: "dk-0123456789" });
      expect(await admin.repositories.secretsForJob(1, ["DEPLOY_KEY"], { fromFork: true })).toEqual({});
    } finally {
      await admin.close();
    }
  }, 120_000);
});

describe("gust migrate", () => {
  it("applies the migrations once, then finds the database up to date", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "gust-migrate-"));
    try {
      const env = { DATABASE_URL: "", GUST_DATABASE_URL: "" };
      const first = await gust(["migrate", "--data-dir", dataDir], { env });
      expect(first.code, first.stderr).toBe(0);
      const applied = /applied (\d+) migrations? \((\d+) in all\)/.exec(first.stdout);
      expect(applied, first.stdout).not.toBeNull();
      expect(Number(applied![1])).toBe(Number(applied![2]));
      const second = await gust(["migrate", "--data-dir", dataDir], { env });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain(`already up to date (${applied![2]} in all)`);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
