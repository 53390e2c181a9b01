DROP INDEX "forge_updates_pending";--> statement-breakpoint
ALTER TABLE "pipelines" ADD COLUMN "report_id" text;--> statement-breakpoint
ALTER TABLE "pipelines" ADD COLUMN "report_attempt" integer;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "report_id" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "report_attempt" integer;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "attempt" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "job_attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "state" text NOT NULL;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "failing_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "claimed_by" text;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "claim_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "forge_updates" ADD COLUMN "sent_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "forge_updates_subject" ON "forge_updates" USING btree ("pipeline_id","job_id","id");--> statement-breakpoint
CREATE INDEX "forge_updates_job" ON "forge_updates" USING btree ("job_id","id");--> statement-breakpoint
CREATE INDEX "forge_updates_pending" ON "forge_updates" USING btree ("pipeline_id","job_id","id") WHERE status = 'pending';--> statement-breakpoint
ALTER TABLE "forge_updates" DROP COLUMN "payload";--> statement-breakpoint
-- The forge status outbox is written by triggers: every change of a job's status (or attempt) and
-- of a pipeline's status adds a row in the transaction that made it, whichever code path that is,
-- and wakes the senders (LISTEN gust_forge_updates). A row says what changed; the sender builds the
-- forge's update from the current rows when it sends.
CREATE FUNCTION gust_job_forge_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  shown integer := 1;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.status = OLD.status AND NEW.attempt = OLD.attempt THEN
      RETURN NULL;
    END IF;
    SELECT coalesce(max(attempt), 1) INTO shown FROM (SELECT attempt FROM forge_updates WHERE job_id = NEW.id ORDER BY id DESC LIMIT 1) AS latest;
    IF OLD.status = 'running' AND NEW.status IN ('waiting', 'queued') THEN
      -- The attempt ended without a result of its own (a retry, a lost runner): its check run is
      -- closed, and the next attempt gets one of its own.
      INSERT INTO forge_updates (pipeline_id, job_id, attempt, job_attempt, state) VALUES (NEW.pipeline_id, NEW.id, shown, OLD.attempt, 'requeued');
      shown := shown + 1;
    ELSIF OLD.status NOT IN ('waiting', 'queued', 'running') AND NEW.status IN ('waiting', 'queued', 'running') THEN
      -- A finished job run again (a retry of failed jobs): a completed check run is not reopened.
      shown := shown + 1;
    END IF;
  END IF;
  INSERT INTO forge_updates (pipeline_id, job_id, attempt, job_attempt, state) VALUES (NEW.pipeline_id, NEW.id, shown, NEW.attempt, NEW.status);
  PERFORM pg_notify('gust_forge_updates', NEW.pipeline_id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION gust_pipeline_forge_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  shown integer := 1;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.status = OLD.status THEN
      RETURN NULL;
    END IF;
    SELECT coalesce(max(attempt), 1) INTO shown FROM (SELECT attempt FROM forge_updates WHERE pipeline_id = NEW.id AND job_id IS NULL ORDER BY id DESC LIMIT 1) AS latest;
    IF OLD.status NOT IN ('pending', 'running') AND NEW.status IN ('pending', 'running') THEN
      shown := shown + 1;
    END IF;
  ELSIF NEW.status = 'skipped' THEN
    -- Its triggers did not match the event: kept for the UI, not shown on the commit.
    RETURN NULL;
  END IF;
  INSERT INTO forge_updates (pipeline_id, job_id, attempt, job_attempt, state) VALUES (NEW.id, NULL, shown, 0, NEW.status);
  PERFORM pg_notify('gust_forge_updates', NEW.id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER jobs_forge_update AFTER INSERT OR UPDATE OF status, attempt ON jobs FOR EACH ROW EXECUTE FUNCTION gust_job_forge_update();
--> statement-breakpoint
CREATE TRIGGER pipelines_forge_update AFTER INSERT OR UPDATE OF status ON pipelines FOR EACH ROW EXECUTE FUNCTION gust_pipeline_forge_update();
