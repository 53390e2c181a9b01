// Public surface of the store: the database client, migrations, sealing, and one store per aggregate.
export { openDatabase, pgliteDatabase, type Database, type DatabaseOptions, type Db, type ListenOptions, type NotificationHandler, type Schema } from "./database";
export { appliedMigrationCount, applyMigrations, findMigrationsFolder, type MigrateOptions } from "./migrate";
export { Sealer, loadOrCreateKeyFile, parseMasterKey } from "./sealing";
export { DeliveriesStore, type DeliveryStatus, type NewDelivery, type RecordResult } from "./deliveries";
export { RepositoriesStore, type NewRepository, type Repository, type RepositoryChanges, type SecretInfo } from "./repositories-store";
export { ApiTokensStore, TOKEN_SCOPES, hashToken, type ApiTokenInfo, type NewApiToken, type TokenScope, type VerifiedToken } from "./api-tokens-store";
export { PipelinesStore, type CreatePipelineInput, type CreatedPipeline, type JobDetail, type JobSummary, type ListPipelinesQuery, type PipelineDetail, type PipelineSummary } from "./pipelines-store";
export { PipelineRetry, planFailedRetry, type JobReset, type RetryJobState, type RetryOptions, type RetryResult } from "./pipeline-retry";
export { JobQueue, shouldRetry, type ExpiredLease, type FinishResult, type HeartbeatResult, type JobOutcome, type LeaseOptions, type LeasedJob } from "./job-queue";
export type { CancelResult, StopRequest } from "./cancellation";
export { CANCEL_CHANNEL, JOBS_CHANNEL, type DecidedJob, type JobStatus, type PipelineStatus } from "./job-progress";
export { StepsStore, type StepStatus, type StepUpdate } from "./steps-store";
export { ScheduleTicksStore, type ScheduleTick } from "./schedule-ticks-store";
export { FORGE_UPDATES_CHANNEL, ForgeUpdatesStore, type ClaimOptions, type ClaimedUpdate, type UpdateSubject } from "./forge-updates-store";
export { inTransaction, run, sqlState, toStoreError } from "./transaction";
export { ReleasesStore, RELEASE_COMMANDS_CHANNEL, FINAL_RELEASE_PHASES, parseReleaseId, type ClaimedRelease, type ReleaseCommandRow, type ReleaseDetail, type ReleaseSummary, type TickRecord } from "./releases-store";
