// Repositories, their sealed webhook secrets and forge credentials, and the pipeline secrets of each
// repository. Sealed columns never leave this module sealed or unsealed by accident: the row type
// handed out (Repository) does not have them; values are opened only by the calls that need them.
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { InputError } from "../errors";
import type { Database, Db } from "./database";
import { repositories, secrets, type RepositoryRow } from "./schema";
import type { Sealer } from "./sealing";
import { inTransaction, run } from "./transaction";

export type Repository = Omit<RepositoryRow, "webhookSecrets" | "credentials"> & {
  hasWebhookSecrets: boolean;
  hasCredentials: boolean;
};

export interface NewRepository {
  forge: string;
  fullName: string;
  apiUrl?: string | null;
  defaultBranch?: string;
  webhookSecrets?: string[];
  /** Forge credentials as JSON: a token, or a GitHub App id and private key. */
  credentials?: unknown;
  maxConcurrentJobs?: number | null;
  settings?: Record<string, unknown>;
}

export type RepositoryChanges = Partial<Pick<NewRepository, "apiUrl" | "defaultBranch" | "maxConcurrentJobs" | "settings">>;

export interface SecretInfo {
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Names as environment variables take them: the only place secrets end up. */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// The context each sealed value is bound to: a value copied into another row or column does not open.
const webhookContext = (id: number) => `repository:${id}:webhook-secrets`;
const credentialsContext = (id: number) => `repository:${id}:credentials`;
const secretContext = (repositoryId: number, name: string) => `secret:${repositoryId}:${name}`;

export class RepositoriesStore {
  private readonly db: Db;

  constructor(
    database: Pick<Database, "db">,
    private readonly sealer: Sealer,
  ) {
    this.db = database.db;
  }

  async createRepository(input: NewRepository): Promise<Repository> {
    validateLimit(input.maxConcurrentJobs);
    return inTransaction(this.db, async (tx) => {
      const [row] = await tx
        .insert(repositories)
        .values({
          forge: input.forge,
          fullName: input.fullName,
          apiUrl: input.apiUrl ?? null,
          ...(input.defaultBranch !== undefined ? { defaultBranch: input.defaultBranch } : {}),
          maxConcurrentJobs: input.maxConcurrentJobs ?? null,
          settings: input.settings ?? {},
        })
        .onConflictDoNothing()
        .returning();
      if (!row) throw new InputError(`repository ${input.forge}:${input.fullName} already exists`, "repository_exists");
      // The sealed values are bound to the row's id, which exists only now.
      const sealed = {
        webhookSecrets: input.webhookSecrets ? this.sealer.seal(JSON.stringify(input.webhookSecrets), webhookContext(row.id)) : null,
        credentials: input.credentials !== undefined ? this.sealer.seal(JSON.stringify(input.credentials), credentialsContext(row.id)) : null,
      };
      if (sealed.webhookSecrets === null && sealed.credentials === null) return toRepository(row);
      const [updated] = await tx.update(repositories).set(sealed).where(eq(repositories.id, row.id)).returning();
      return toRepository(updated!);
    });
  }

  async getRepository(id: number): Promise<Repository | undefined> {
    const [row] = await run(() => this.db.select().from(repositories).where(eq(repositories.id, id)));
    return row && toRepository(row);
  }

  async findRepository(forge: string, fullName: string): Promise<Repository | undefined> {
    const [row] = await run(() =>
      this.db
        .select()
        .from(repositories)
        .where(and(eq(repositories.forge, forge), eq(repositories.fullName, fullName))),
    );
    return row && toRepository(row);
  }

  async listRepositories(): Promise<Repository[]> {
    const rows = await run(() => this.db.select().from(repositories).orderBy(asc(repositories.forge), asc(repositories.fullName)));
    return rows.map(toRepository);
  }

  async updateRepository(id: number, changes: RepositoryChanges): Promise<Repository | undefined> {
    validateLimit(changes.maxConcurrentJobs);
    const set: Partial<typeof repositories.$inferInsert> = {};
    if (changes.apiUrl !== undefined) set.apiUrl = changes.apiUrl;
    if (changes.defaultBranch !== undefined) set.defaultBranch = changes.defaultBranch;
    if (changes.maxConcurrentJobs !== undefined) set.maxConcurrentJobs = changes.maxConcurrentJobs;
    if (changes.settings !== undefined) set.settings = changes.settings;
    if (Object.keys(set).length === 0) return this.getRepository(id);
    const [row] = await run(() => this.db.update(repositories).set(set).where(eq(repositories.id, id)).returning());
    return row && toRepository(row);
  }

  /** Deletes the repository with its pipelines, jobs, logs and secrets. */
  async deleteRepository(id: number): Promise<boolean> {
    const rows = await run(() => this.db.delete(repositories).where(eq(repositories.id, id)).returning({ id: repositories.id }));
    return rows.length > 0;
  }

  /** Replaces the webhook secrets (give old and new together while rotating). */
  async setWebhookSecrets(id: number, webhookSecrets: string[]): Promise<boolean> {
    if (webhookSecrets.some((secret) => secret.trim() === "")) throw new InputError("a webhook secret cannot be empty", "invalid_webhook_secret");
    const sealed = this.sealer.seal(JSON.stringify(webhookSecrets), webhookContext(id));
    return this.setSealed(id, { webhookSecrets: sealed });
  }

  /** The secrets a delivery's signature may match; empty when none are set. */
  async webhookSecrets(id: number): Promise<string[]> {
    const [row] = await run(() => this.db.select({ sealed: repositories.webhookSecrets }).from(repositories).where(eq(repositories.id, id)));
    if (!row?.sealed) return [];
    return JSON.parse(this.sealer.open(row.sealed, webhookContext(id))) as string[];
  }

  async setCredentials(id: number, credentials: unknown): Promise<boolean> {
    return this.setSealed(id, { credentials: this.sealer.seal(JSON.stringify(credentials), credentialsContext(id)) });
  }

  /** The forge credentials as they were given, or undefined when none are set. */
  async credentials(id: number): Promise<unknown> {
    const [row] = await run(() => this.db.select({ sealed: repositories.credentials }).from(repositories).where(eq(repositories.id, id)));
    if (!row?.sealed) return undefined;
    return JSON.parse(this.sealer.open(row.sealed, credentialsContext(id)));
  }

  /** Creates or replaces a pipeline secret. */
  async setSecret(repositoryId: number, name: string, value: string): Promise<void> {
    if (!SECRET_NAME.test(name)) throw new InputError(`secret name '${name}': use letters, digits and _, not starting with a digit`, "invalid_secret_name");
    const sealedValue = this.sealer.seal(value, secretContext(repositoryId, name));
    await run(() =>
      this.db
        .insert(secrets)
        .values({ repositoryId, name, sealedValue })
        .onConflictDoUpdate({ target: [secrets.repositoryId, secrets.name], set: { sealedValue, updatedAt: sql`now()` } }),
    );
  }

  async deleteSecret(repositoryId: number, name: string): Promise<boolean> {
    const rows = await run(() =>
      this.db
        .delete(secrets)
        .where(and(eq(secrets.repositoryId, repositoryId), eq(secrets.name, name)))
        .returning({ id: secrets.id }),
    );
    return rows.length > 0;
  }

  /** Names and dates only: values are never listed. */
  listSecrets(repositoryId: number): Promise<SecretInfo[]> {
    return run(() =>
      this.db
        .select({ name: secrets.name, createdAt: secrets.createdAt, updatedAt: secrets.updatedAt })
        .from(secrets)
        .where(eq(secrets.repositoryId, repositoryId))
        .orderBy(asc(secrets.name)),
    );
  }

  /**
   * The values of the secrets a job lists, by name; names not set are left out (the job sees them
   * unset). A pipeline from a fork gets none at all.
   */
  async secretsForJob(repositoryId: number, names: readonly string[], options: { fromFork: boolean }): Promise<Record<string, string>> {
    if (options.fromFork || names.length === 0) return {};
    const rows = await run(() =>
      this.db
        .select({ name: secrets.name, sealedValue: secrets.sealedValue })
        .from(secrets)
        .where(and(eq(secrets.repositoryId, repositoryId), inArray(secrets.name, [...new Set(names)]))),
    );
    const values: Record<string, string> = {};
    for (const row of rows) values[row.name] = this.sealer.open(row.sealedValue, secretContext(repositoryId, row.name));
    return values;
  }

  private async setSealed(id: number, set: { webhookSecrets?: string; credentials?: string }): Promise<boolean> {
    const rows = await run(() => this.db.update(repositories).set(set).where(eq(repositories.id, id)).returning({ id: repositories.id }));
    return rows.length > 0;
  }
}

function toRepository(row: RepositoryRow): Repository {
  const { webhookSecrets, credentials, ...rest } = row;
  return { ...rest, hasWebhookSecrets: webhookSecrets !== null, hasCredentials: credentials !== null };
}

function validateLimit(limit: number | null | undefined): void {
  if (limit !== undefined && limit !== null && (!Number.isInteger(limit) || limit < 1)) {
    throw new InputError(`max concurrent jobs must be a whole number of at least 1, got ${limit}`, "invalid_limit");
  }
}
