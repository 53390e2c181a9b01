// Which serving version answers a request: pure decisions, no I/O. Order: the pin header (an exact
// serving version, for smoke tests), then the A/B route (matching requests always reach the
// canary), then a smooth weighted round-robin between stable and canary.
import type { IncomingHttpHeaders } from "node:http";
import type { TrafficRoute } from "../deploy-provider";

/**
 * `x-gust-version: <version>` sends a request to that serving version whatever the weights (smoke
 * tests, the contract harness). A version that is not serving is answered 404 by the router. The
 * router also sets this header on every response, naming the version that answered.
 */
export const PIN_HEADER = "x-gust-version";

/**
 * Smooth weighted round-robin (nginx's): deterministic, and over any run of consecutive picks each
 * side's count is within one of its share. Weights are percentages, kept to 1/1000 of a percent.
 */
export class SmoothWeightedChoice {
  private readonly weights: [number, number];
  private readonly total: number;
  private current: [number, number] = [0, 0];

  /** `canaryWeight` in percent, 0–100. */
  constructor(canaryWeight: number) {
    const canary = Math.round(Math.min(100, Math.max(0, canaryWeight)) * 1000);
    this.weights = [100_000 - canary, canary];
    this.total = 100_000;
  }

  /** true: the canary. */
  next(): boolean {
    this.current[0] += this.weights[0];
    this.current[1] += this.weights[1];
    const canary = this.current[1] > this.current[0];
    this.current[canary ? 1 : 0] -= this.total;
    return canary;
  }
}

export function matchesRoute(route: TrafficRoute | undefined, headers: IncomingHttpHeaders): boolean {
  if (!route) return false;
  if (route.header) {
    // Node lower-cases incoming header names; a repeated header arrives joined with ", ".
    const value = headers[route.header.name.toLowerCase()];
    const values = Array.isArray(value) ? value : value === undefined ? [] : value.split(/,\s*/);
    if (value === route.header.value || values.includes(route.header.value)) return true;
  }
  if (route.cookie) {
    const cookies = headers.cookie;
    if (cookies !== undefined && cookieValues(cookies, route.cookie.name).includes(route.cookie.value)) return true;
  }
  return false;
}

/** Every value of the cookie `name` in a Cookie header (`a=1; b=2`), quotes removed. */
export function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const part of header.split(";")) {
    const equals = part.indexOf("=");
    if (equals === -1 || part.slice(0, equals).trim() !== name) continue;
    let value = part.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    values.push(value);
  }
  return values;
}
