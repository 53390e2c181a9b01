export { ConfigError, loadConfig, type LoadConfigInput } from "./load-config";
export { DEFAULTS, FIELDS, type FieldSpec } from "./fields";
export { configSchema, parseSize, DEFAULT_WEBHOOK_BODY_LIMIT, EXECUTORS, LOG_LEVELS, type GustConfig } from "./schema";
