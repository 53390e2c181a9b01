// Repositories with sealed webhook secrets and credentials, and per-repository pipeline secrets:
// stored sealed, opened only on request, never handed to pipelines from forks.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { RepositoriesStore } from "../../src/store/repositories-store";
import { repositories, secrets } from "../../src/store/schema";
import { Sealer } from "../../src/store/sealing";
import { DATABASE_KINDS, useTestDatabase } from "../helpers/database";
import { sealer } from "./fixtures";

describe.each(DATABASE_KINDS)("repositories store (%s)", (kind) => {
  const test = useTestDatabase(kind);
  const store = () => new RepositoriesStore(test.database, sealer);

  it("creates, finds, updates and deletes repositories; duplicates are refused", async () => {
    const created = await store().createRepository({ forge: "gitlab", fullName: "group/project", apiUrl: "https://gitlab.example.com/api/v4", maxConcurrentJobs: 3 });
    expect(created).toMatchObject({ forge: "gitlab", fullName: "group/project", defaultBranch: "main", maxConcurrentJobs: 3, hasWebhookSecrets: false, hasCredentials: false });
    expect(created).not.toHaveProperty("credentials");
    expect(await store().findRepository("gitlab", "group/project")).toEqual(created);
    expect(await store().getRepository(created.id)).toEqual(created);
    await expect(store().createRepository({ forge: "gitlab", fullName: "group/project" })).rejects.toMatchObject({ code: "repository_exists" });

    const updated = await store().updateRepository(created.id, { defaultBranch: "trunk", maxConcurrentJobs: null, settings: { badge: true } });
    expect(updated).toMatchObject({ defaultBranch: "trunk", maxConcurrentJobs: null, settings: { badge: true } });
    await expect(store().updateRepository(created.id, { maxConcurrentJobs: 0 })).rejects.toMatchObject({ code: "invalid_limit" });
    expect((await store().listRepositories()).map((repository) => repository.fullName)).toContain("group/project");

    expect(await store().deleteRepository(created.id)).toBe(true);
    expect(await store().getRepository(created.id)).toBeUndefined();
    expect(await store().deleteRepository(created.id)).toBe(false);
  });

  it("keeps webhook secrets and credentials sealed at rest", async () => {
    const credentials = { type: "token", token: "ghp_very_secret" };
    const created = await store().createRepository({ forge: "github", fullName: "acme/sealed", webhookSecrets: ["old-secret", "new-secret"], credentials });
    expect(created).toMatchObject({ hasWebhookSecrets: true, hasCredentials: true });

    const [raw] = await test.database.db.select().from(repositories).where(eq(repositories.id, created.id));
    expect(raw!.webhookSecrets).toMatch(/^v1\./);
    expect(JSON.stringify(raw)).not.toContain("secret\"");
    expect(JSON.stringify(raw)).not.toContain("ghp_very_secret");

    expect(await store().webhookSecrets(created.id)).toEqual(["old-secret", "new-secret"]);
    expect(await store().credentials(created.id)).toEqual(credentials);

    expect(await store().setWebhookSecrets(created.id, ["newest"])).toBe(true);
    expect(await store().webhookSecrets(created.id)).toEqual(["newest"]);
    await expect(store().setWebhookSecrets(created.id, [" "])).rejects.toMatchObject({ code: "invalid_webhook_secret" });
    expect(await store().setCredentials(created.id, { type: "app", appId: 1 })).toBe(true);
    expect(await store().credentials(created.id)).toEqual({ type: "app", appId: 1 });

    const bare = await store().createRepository({ forge: "github", fullName: "acme/bare" });
    expect(await store().webhookSecrets(bare.id)).toEqual([]);
    expect(await store().credentials(bare.id)).toBeUndefined();
  });

  it("refuses to open values with another master key", async () => {
    const created = await store().createRepository({ forge: "github", fullName: "acme/other-key", webhookSecrets: ["s"] });
    const otherKey = new RepositoriesStore(test.database, new Sealer(Buffer.alloc(32, 9)));
    await expect(otherKey.webhookSecrets(created.id)).rejects.toMatchObject({ code: "wrong_master_key" });
  });

  it("sets, lists, replaces and deletes pipeline secrets, and gives a job only the ones it lists", async () => {
    const repository = await store().createRepository({ forge: "github", fullName: "acme/secrets" });
    const other = await store().createRepository({ forge: "github", fullName: "acme/secrets-other" });
    await store().setSecret(repository.id, "NPM_TOKEN", "npm-1");
    await store().setSecret(repository.id, "DEPLOY_KEY", "deploy");
    await store().setSecret(other.id, "NPM_TOKEN", "someone-else");
    await store().setSecret(repository.id, "NPM_TOKEN", "npm-2");

    const listed = await store().listSecrets(repository.id);
    expect(listed.map((secret) => secret.name)).toEqual(["DEPLOY_KEY", "NPM_TOKEN"]);
    expect(JSON.stringify(listed)).not.toContain("npm-2");

    const [row] = await test.database.db.select().from(secrets).where(eq(secrets.repositoryId, repository.id)).limit(1);
    expect(row!.sealedValue).toMatch(/^v1\./);

    expect(await store().secretsForJob(repository.id, ["NPM_TOKEN", "MISSING"], { fromFork: false })).toEqual({ NPM_TOKEN: "npm-2" });
    expect(await store().secretsForJob(repository.id, ["NPM_TOKEN", "DEPLOY_KEY"], { fromFork: true })).toEqual({});
    expect(await store().secretsForJob(repository.id, [], { fromFork: false })).toEqual({});

    expect(await store().deleteSecret(repository.id, "DEPLOY_KEY")).toBe(true);
    expect(await store().deleteSecret(repository.id, "DEPLOY_KEY")).toBe(false);
    await expect(store().setSecret(repository.id, "1BAD-NAME", "x")).rejects.toMatchObject({ code: "invalid_secret_name" });
  });

  it("does not open a secret moved to another repository's row", async () => {
    const a = await store().createRepository({ forge: "github", fullName: "acme/swap-a" });
    const b = await store().createRepository({ forge: "github", fullName: "acme/swap-b" });
    await store().setSecret(a.id, "TOKEN", "a-value");
    await store().setSecret(b.id, "TOKEN", "b-value");
    const [fromA] = await test.database.db.select().from(secrets).where(eq(secrets.repositoryId, a.id));
    await test.database.db.update(secrets).set({ sealedValue: fromA!.sealedValue }).where(eq(secrets.repositoryId, b.id));
    await expect(store().secretsForJob(b.id, ["TOKEN"], { fromFork: false })).rejects.toMatchObject({ code: "sealed_value_invalid" });
  });
});
