// Reads what an SAE application serves now into a SaeView (see sae-plan.ts): its configuration, the
// version each running instance runs, the newest change order, and Gust's grey tag route.
import type { AppConfig, SaeApi } from "./sae-api";
import { GREY_TAG_ROUTE_NAME, routeOfRules } from "./sae-grey-route";
import { isActive, orderPhase, type OrderView, type SaeView } from "./sae-plan";
import { isImagePackageType } from "./sae-versions";

export interface Observation {
  config: AppConfig;
  view: SaeView;
  /** Gust's grey tag route, to update or delete it. */
  routeId?: number;
}

/** The version a configuration deploys: its image, or its package version label. */
export function configuredVersion(config: AppConfig): string | null {
  return (isImagePackageType(config.packageType) ? config.imageUrl : config.packageVersion) ?? null;
}

export async function observe(api: SaeApi, appId: string, options: { routes: boolean; followed?: string }): Promise<Observation> {
  const config = await api.describeConfig(appId);
  // The change order before the instances: an order seen waiting moves no instance until it is
  // confirmed, so the counts read after it are current (read the other way round, a batch that
  // ended in between would look unfinished and be confirmed twice).
  let order: OrderView | undefined;
  const newest = (await api.recentOrders(appId))[0];
  // The list has no SubStatus and no batches: describe the newest order unless it plainly succeeded
  // (and always the one this call follows, to see how it ended).
  if (newest && (newest.status !== 2 || newest.changeOrderId === options.followed)) {
    const described = await api.describeOrder(newest.changeOrderId);
    const phase = orderPhase(described.status, described.subStatus);
    const waiting = described.pipelines.find((pipeline) => pipeline.status === 8)?.pipelineId ?? (phase === "waiting" ? described.currentPipelineId : undefined);
    order = { id: described.changeOrderId, phase, ...(waiting && isActive(phase) ? { waitingPipelineId: waiting } : {}), ...(described.errorMessage ? { errorMessage: described.errorMessage } : {}) };
  }

  const image = isImagePackageType(config.packageType);
  const running: Record<string, number> = {};
  for (const instance of await api.instances(appId)) {
    const version = image ? instance.imageUrl : instance.packageVersion;
    if (version && instance.status === "Running") running[version] = (running[version] ?? 0) + 1;
  }
  const view: SaeView = { replicas: config.replicas, configured: configuredVersion(config), running, greyTagRouteEnabled: config.enableGreyTagRoute, ...(order ? { order } : {}) };

  if (!options.routes) return { config, view };
  const rule = (await api.greyTagRoutes(appId)).find((candidate) => candidate.name === GREY_TAG_ROUTE_NAME);
  if (!rule) return { config, view };
  const route = routeOfRules(rule.albRules) ?? routeOfRules(rule.scRules);
  if (route) view.route = route;
  return { config, view, routeId: rule.greyTagRouteId };
}
