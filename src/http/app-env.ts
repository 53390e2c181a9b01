// The Hono environment of the app: per-request fields that routes add to the request log line.

/** Values only: a route adds what identifies the request (forge, event, delivery id, result). */
export interface LogFields {
  [field: string]: string | number | undefined;
}

export type AppEnv = { Variables: { log: LogFields } };
