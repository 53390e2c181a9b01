CREATE TABLE "release_commands" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"release_id" bigint NOT NULL,
	"command" text NOT NULL,
	"requested_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"consumed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "release_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"release_id" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"from_phase" text NOT NULL,
	"to_phase" text NOT NULL,
	"weight" real NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "releases" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"job_attempt" integer NOT NULL,
	"pipeline_id" bigint NOT NULL,
	"repository_id" bigint NOT NULL,
	"target" text NOT NULL,
	"target_type" text NOT NULL,
	"phase" text NOT NULL,
	"version" text,
	"weight" real DEFAULT 0 NOT NULL,
	"state" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "kind" text DEFAULT 'job' NOT NULL;--> statement-breakpoint
ALTER TABLE "release_commands" ADD CONSTRAINT "release_commands_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_events" ADD CONSTRAINT "release_events_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_repository_id_repositories_id_fk" FOREIGN KEY ("repository_id") REFERENCES "public"."repositories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "release_commands_pending" ON "release_commands" USING btree ("release_id","id") WHERE consumed_at is null;--> statement-breakpoint
CREATE INDEX "release_events_release" ON "release_events" USING btree ("release_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "releases_job_attempt" ON "releases" USING btree ("job_id","job_attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "releases_active_target" ON "releases" USING btree ("target") WHERE phase not in ('promoted', 'rolled-back', 'aborted', 'failed');--> statement-breakpoint
CREATE INDEX "releases_pipeline" ON "releases" USING btree ("pipeline_id","id");--> statement-breakpoint
CREATE INDEX "releases_repository_created" ON "releases" USING btree ("repository_id","created_at");--> statement-breakpoint
CREATE INDEX "releases_target_created" ON "releases" USING btree ("target","created_at");