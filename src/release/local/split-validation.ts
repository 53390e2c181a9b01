// Checks a split handed to the local target before anything moves: every field that is wrong is
// named. Pure.
import type { TrafficRoute, TrafficSplit } from "../deploy-provider";
import { userError } from "./local-errors";
import { PIN_HEADER } from "./traffic-choice";

/** RFC 9110 token: header and cookie names. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 6265 cookie-octet. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/;

export function validateSplit(split: TrafficSplit): void {
  const problems: string[] = [];
  if (split.stable !== null && !isVersion(split.stable)) problems.push("split.stable must be a version or null");
  if (split.canary) {
    if (!isVersion(split.canary.version)) problems.push("split.canary.version must be a version");
    const weight = split.canary.weight;
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0 || weight > 100) {
      problems.push(`split.canary.weight must be a percentage from 0 to 100 (got ${String(weight)})`);
    }
    if (split.stable === null) problems.push("split.canary needs a stable version beside it (split.stable is null)");
  }
  if (split.route) problems.push(...routeProblems(split.route));
  if (problems.length > 0) throw userError(`invalid traffic split for a local target: ${problems.join("; ")}`, "local_invalid_split");
}

function routeProblems(route: TrafficRoute): string[] {
  const problems: string[] = [];
  if (route.header) {
    const { name, value } = route.header;
    if (typeof name !== "string" || !TOKEN.test(name)) problems.push(`split.route.header.name '${String(name)}' is not a valid header name`);
    else if (name.toLowerCase() === PIN_HEADER) problems.push(`split.route.header.name cannot be ${PIN_HEADER}, the router's pin header`);
    if (typeof value !== "string" || value.length === 0 || /[\r\n\0]/.test(value)) problems.push("split.route.header.value must be a non-empty single-line string");
  }
  if (route.cookie) {
    const { name, value } = route.cookie;
    if (typeof name !== "string" || !TOKEN.test(name)) problems.push(`split.route.cookie.name '${String(name)}' is not a valid cookie name`);
    if (typeof value !== "string" || !COOKIE_VALUE.test(value)) problems.push("split.route.cookie.value must be a non-empty cookie value (no spaces, quotes, commas, semicolons or backslashes)");
  }
  return problems;
}

function isVersion(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
