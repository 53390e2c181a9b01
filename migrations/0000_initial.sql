CREATE TABLE "repositories" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"forge" text NOT NULL,
	"full_name" text NOT NULL,
	"api_url" text,
	"default_branch" text DEFAULT 'main' NOT NULL,
	"webhook_secrets" text,
	"credentials" text,
	"max_concurrent_jobs" integer,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"forge" text NOT NULL,
	"delivery_id" text NOT NULL,
	"event" text NOT NULL,
	"repository_id" bigint,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"detail" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pipelines" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository_id" bigint NOT NULL,
	"number" integer NOT NULL,
	"name" text NOT NULL,
	"file" text NOT NULL,
	"event" text NOT NULL,
	"ref" text NOT NULL,
	"branch" text,
	"tag" text,
	"sha" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"plan" jsonb,
	"inputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"from_fork" boolean DEFAULT false NOT NULL,
	"concurrency_group" text,
	"delivery_id" bigint,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pipeline_id" bigint NOT NULL,
	"repository_id" bigint NOT NULL,
	"key" text NOT NULL,
	"name" text NOT NULL,
	"needs" text[] DEFAULT '{}'::text[] NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text DEFAULT 'waiting' NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"run_id" text,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"exit_code" integer,
	"failed_step" integer,
	"detail" text,
	"log_bytes" bigint DEFAULT 0 NOT NULL,
	"log_lines" bigint DEFAULT 0 NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "steps" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"index" integer NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"exit_code" integer,
	"reason" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "log_chunks" (
	"job_id" bigint NOT NULL,
	"first_line" bigint NOT NULL,
	"line_count" integer NOT NULL,
	"byte_count" integer NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "log_chunks_job_id_first_line_pk" PRIMARY KEY("job_id","first_line")
);
--> statement-breakpoint
CREATE TABLE "secrets" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository_id" bigint NOT NULL,
	"name" text NOT NULL,
	"sealed_value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "forge_updates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pipeline_id" bigint NOT NULL,
	"job_id" bigint,
	"payload" jsonb NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "schedule_ticks" (
	"repository_id" bigint NOT NULL,
	"entry" text NOT NULL,
	"last_tick_at" timestamp with time zone NOT NULL,
	CONSTRAINT "schedule_ticks_repository_id_entry_pk" PRIMARY KEY("repository_id","entry")
);
--> statement-breakpoint
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipelines" ADD CONSTRAINT "pipelines_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pipelines" ADD CONSTRAINT "pipelines_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "steps" ADD CONSTRAINT "steps_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "log_chunks" ADD CONSTRAINT "log_chunks_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "secrets" ADD CONSTRAINT "secrets_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD CONSTRAINT "forge_updates_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD CONSTRAINT "forge_updates_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "schedule_ticks" ADD CONSTRAINT "schedule_ticks_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "repositories_forge_full_name" ON "repositories" USING btree ("forge","full_name");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_forge_delivery_id" ON "deliveries" USING btree ("forge","delivery_id");--> statement-breakpoint
CREATE INDEX "deliveries_pending" ON "deliveries" USING btree ("received_at") WHERE status = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "pipelines_repository_number" ON "pipelines" USING btree ("repository_id","number");--> statement-breakpoint
CREATE INDEX "pipelines_repository_created" ON "pipelines" USING btree ("repository_id","created_at");--> statement-breakpoint
CREATE INDEX "pipelines_concurrency_group" ON "pipelines" USING btree ("concurrency_group") WHERE status in ('pending', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_pipeline_key" ON "jobs" USING btree ("pipeline_id","key");--> statement-breakpoint
CREATE INDEX "jobs_queued" ON "jobs" USING btree ("queued_at") WHERE status = 'queued';--> statement-breakpoint
CREATE INDEX "jobs_running_lease" ON "jobs" USING btree ("lease_expires_at") WHERE status = 'running';--> statement-breakpoint
CREATE INDEX "jobs_repository_running" ON "jobs" USING btree ("repository_id") WHERE status = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "steps_job_attempt_index" ON "steps" USING btree ("job_id","attempt","index");--> statement-breakpoint
CREATE UNIQUE INDEX "secrets_repository_name" ON "secrets" USING btree ("repository_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_hash" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "forge_updates_pending" ON "forge_updates" USING btree ("next_attempt_at") WHERE status = 'pending';