// The database schema, one file per aggregate. drizzle-kit reads this to generate migrations/.
export * from "./repositories";
export * from "./deliveries";
export * from "./pipelines";
export * from "./jobs";
export * from "./steps";
export * from "./log-chunks";
export * from "./secrets";
export * from "./api-tokens";
export * from "./forge-updates";
export * from "./schedule-ticks";
export * from "./releases";
