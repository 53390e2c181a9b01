// Pure translation between Gust's traffic split and an FC 3.0 alias: `versionId` is the stable
// version, `additionalVersionWeight` maps the canary to a fraction of the alias's traffic in [0, 1].
// FC aliases split by weight only, so a split with a route is refused before any call.
import { ProviderError } from "../../errors";
import { normalizeSplit, type TrafficSplit } from "../deploy-provider";

export interface FcAliasValue {
  versionId: string;
  additionalVersionWeight: Record<string, number>;
}

/** 20 → 0.2: the nearest double to the exact fraction. */
export function percentToFraction(percent: number): number {
  return percent / 100;
}

/** 0.2 → 20, undoing percentToFraction exactly (0.07 * 100 is 7.000000000000001 in doubles). */
export function fractionToPercent(fraction: number): number {
  return Number((fraction * 100).toPrecision(12));
}

/** What traffic() reports for an alias, or for none. */
export function splitFromAlias(alias: FcAliasValue | undefined): TrafficSplit {
  if (!alias) return { stable: null };
  // Gust writes at most one additional version; another tool may have written more, and then the
  // heaviest is the one a release would be judged on.
  const weighted = Object.entries(alias.additionalVersionWeight)
    .filter(([version, weight]) => weight > 0 && version !== alias.versionId)
    .sort(([, a], [, b]) => b - a);
  const canary = weighted[0];
  return canary ? { stable: alias.versionId, canary: { version: canary[0], weight: fractionToPercent(canary[1]) } } : { stable: alias.versionId };
}

/** Throws the permanent refusal for a split FC cannot apply (a route, a canary without a stable version). */
export function refuseUnsupported(split: TrafficSplit): void {
  if (split.route && (split.route.header || split.route.cookie)) {
    throw new ProviderError("FC aliases split traffic by weight only; header or cookie routes are not available on an fc target", {
      retryable: false,
      code: "route_unsupported",
      fault: "user",
    });
  }
  if (split.stable === null && split.canary) {
    throw new ProviderError("a canary needs a stable version beside it on an FC alias", { retryable: false, code: "split_invalid", fault: "user" });
  }
  if (split.canary && (!(split.canary.weight >= 0) || split.canary.weight > 100)) {
    throw new ProviderError(`canary weight ${split.canary.weight} is not a percentage from 0 to 100`, { retryable: false, code: "split_invalid", fault: "user" });
  }
}

/** The alias body for a split with a stable version (call refuseUnsupported first). */
export function aliasFromSplit(split: TrafficSplit & { stable: string }): FcAliasValue {
  const normal = normalizeSplit(split);
  return {
    versionId: split.stable,
    additionalVersionWeight: normal.canary ? { [normal.canary.version]: percentToFraction(normal.canary.weight) } : {},
  };
}

