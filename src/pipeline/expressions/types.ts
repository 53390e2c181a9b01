// Shared types of the expression language: runtime values, errors, options and the evaluation context.
// Leaf module: imports nothing.

/** A runtime value: what variables hold and what expressions produce (JSON-shaped). */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** A syntax or check error. `offset`/`length` locate the problem in the source (0-based characters). */
export interface ExpressionError {
  message: string;
  offset: number;
  length: number;
  hint?: string;
}

/** What names an expression may use; checked before any evaluation. */
export interface CheckOptions {
  /** Allowed root identifiers. Replaces the default set (`event`, `ref`, `branch`, …) when given. */
  roots?: readonly string[];
  /** Extra function names allowed besides the built-ins, e.g. `['hashFiles']`. Any arity. */
  functions?: readonly string[];
}

/** Outcome of the jobs/steps before this one, read by `success()`, `failure()`, `cancelled()`. */
export interface RunStatus {
  failed: boolean;
  cancelled: boolean;
}

export interface EvalContext {
  variables: Record<string, Value>;
  /** Defaults to "nothing failed, nothing cancelled". */
  status?: RunStatus;
  /** Extra functions (e.g. `hashFiles`). Built-ins cannot be overridden. */
  functions?: Record<string, (args: Value[]) => Value>;
}
