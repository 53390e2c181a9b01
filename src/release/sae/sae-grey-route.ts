// A/B routes on SAE, pure parts. SAE sends requests to the gray instances of a change order by a
// grey tag route (CreateGreyTagRoute) when the deployment enabled it (EnableGreyTagRoute). The rules
// are honoured only by a gateway that knows them: an ALB ingress managed by SAE (AlbRules, per
// ingress) or the microservice governance of Spring Cloud applications (ScRules, per path). A plain
// application behind an SLB ignores them, so routes are offered only when the operator says which
// of the two the application uses (SaeProviderOptions.greyTagRoutes).
import type { TrafficRoute } from "../deploy-provider";

export type GreyTagRouteGateway = { kind: "alb"; ingressId: string } | { kind: "spring-cloud"; path: string };

/** The rule's name: SAE's form (a lowercase letter first, lowercase letters, digits, hyphens). */
export const GREY_TAG_ROUTE_NAME = "gust-canary";

interface RuleItem {
  cond: "==";
  name: string;
  operator: "rawvalue";
  type: "header" | "cookie";
  value: string;
}

/** The rules for `route` as SAE takes them: a JSON array, one rule whose items match by OR. */
export function greyTagRules(route: TrafficRoute, gateway: GreyTagRouteGateway): { param: "AlbRules" | "ScRules"; json: string } {
  const items: RuleItem[] = [];
  if (route.header) items.push({ cond: "==", name: route.header.name, operator: "rawvalue", type: "header", value: route.header.value });
  if (route.cookie) items.push({ cond: "==", name: route.cookie.name, operator: "rawvalue", type: "cookie", value: route.cookie.value });
  if (gateway.kind === "alb") return { param: "AlbRules", json: JSON.stringify([{ condition: "OR", ingressId: gateway.ingressId, items }]) };
  return { param: "ScRules", json: JSON.stringify([{ condition: "OR", path: gateway.path, items }]) };
}

/** The route a listed rule applies (ListGreyTagRoute's AlbRules / ScRules), when it has one. */
export function routeOfRules(rules: unknown): TrafficRoute | undefined {
  if (!Array.isArray(rules)) return undefined;
  const route: TrafficRoute = {};
  for (const rule of rules) {
    const items: unknown = (rule as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) continue;
    for (const item of items as Array<Partial<RuleItem>>) {
      if (typeof item.name !== "string" || typeof item.value !== "string" || item.cond !== "==") continue;
      if (item.type === "header" && !route.header) route.header = { name: item.name, value: item.value };
      if (item.type === "cookie" && !route.cookie) route.cookie = { name: item.name, value: item.value };
    }
  }
  return route.header || route.cookie ? orderedRoute(route) : undefined;
}

/** Key order as the pipeline model writes routes (header, then cookie), so routes compare as JSON. */
export function orderedRoute(route: TrafficRoute): TrafficRoute {
  const pair = (match: { name: string; value: string }) => ({ name: match.name, value: match.value });
  return { ...(route.header ? { header: pair(route.header) } : {}), ...(route.cookie ? { cookie: pair(route.cookie) } : {}) };
}
