// Repositories Gust builds, with their forge credentials and webhook secrets (both encrypted).
import { sql } from "drizzle-orm";
import { bigserial, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const repositories = pgTable(
  "repositories",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** github | gitlab | local */
    forge: text("forge").notNull(),
    /** OWNER/NAME on GitHub, GROUP/PROJECT on GitLab, the absolute path for local. */
    fullName: text("full_name").notNull(),
    /** API base URL (GitLab self-managed, GitHub Enterprise); null for the public service. */
    apiUrl: text("api_url"),
    defaultBranch: text("default_branch").notNull().default("main"),
    /** AES-256-GCM sealed JSON array of webhook secrets (several, for rotation). */
    webhookSecrets: text("webhook_secrets"),
    /** AES-256-GCM sealed JSON credentials: a token, or a GitHub App id + private key. */
    credentials: text("credentials"),
    /** Jobs of this repository running at once; null means only the global limit. */
    maxConcurrentJobs: integer("max_concurrent_jobs"),
    settings: jsonb("settings").notNull().default(sql`'{}'::jsonb`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("repositories_forge_full_name").on(table.forge, table.fullName)],
);

export type RepositoryRow = typeof repositories.$inferSelect;
