// Grey tag routes (one canary rule per application, header/cookie/param items for Spring Cloud or an
// ALB ingress) and namespaced ConfigMaps of the SAE stand-in, with SAE's validation and answers.
import { tickTime } from "./sae-stand-in-model";
import { SaeFault, type ConfigMapEntry, type GreyTagRouteEntry, type SaeState } from "./sae-stand-in-handlers";
import type { Params } from "./sae-stand-in-schema";

const invalid = (message: string) => new SaeFault(400, "InvalidParameter.WithMessage", message);

/** A rule list as SAE takes it: [{condition, items: [{cond, name, operator, type, value}], path | ingressId}]. */
function checkRules(name: "ScRules" | "AlbRules" | "DubboRules", rules: unknown): unknown[] {
  if (!Array.isArray(rules) || rules.length === 0) throw invalid(`The parameter is invalid {${name}}: a non-empty JSON array is required`);
  for (const rule of rules as Array<Record<string, unknown>>) {
    if (rule["condition"] !== "AND" && rule["condition"] !== "OR") throw invalid(`The parameter is invalid {${name}}: condition must be AND or OR`);
    if (name === "ScRules" && (typeof rule["path"] !== "string" || !rule["path"].startsWith("/"))) throw invalid(`The parameter is invalid {${name}}: path must start with /`);
    if (name === "AlbRules" && typeof rule["ingressId"] !== "string" && typeof rule["ingressId"] !== "number") throw invalid(`The parameter is invalid {${name}}: ingressId is required`);
    const items = rule["items"];
    if (!Array.isArray(items) || items.length === 0) throw invalid(`The parameter is invalid {${name}}: items must be a non-empty array`);
    for (const item of items as Array<Record<string, unknown>>) {
      if (!["header", "cookie", "param", "sourceIp"].includes(String(item["type"]))) throw invalid(`The parameter is invalid {${name}}: item type must be header, cookie, param or sourceIp`);
      if (typeof item["name"] !== "string" || item["name"] === "" || typeof item["value"] !== "string") throw invalid(`The parameter is invalid {${name}}: items need a name and a value`);
      if (!["==", "!=", ">", "<", ">=", "<="].includes(String(item["cond"])) || item["operator"] !== "rawvalue") throw invalid(`The parameter is invalid {${name}}: cond and operator (rawvalue) are required`);
    }
  }
  return rules as unknown[];
}

function rulesOf(params: Params): Pick<GreyTagRouteEntry, "scRules" | "albRules" | "dubboRules"> {
  const rules: Pick<GreyTagRouteEntry, "scRules" | "albRules" | "dubboRules"> = {};
  if (params["ScRules"] !== undefined) rules.scRules = checkRules("ScRules", params["ScRules"]);
  if (params["AlbRules"] !== undefined) rules.albRules = checkRules("AlbRules", params["AlbRules"]);
  if (params["DubboRules"] !== undefined) rules.dubboRules = checkRules("DubboRules", params["DubboRules"]);
  return rules;
}

function routeBody(route: GreyTagRouteEntry): Record<string, unknown> {
  return {
    GreyTagRouteId: route.greyTagRouteId,
    Name: route.name,
    Description: route.description,
    CreateTime: route.createTime,
    UpdateTime: route.updateTime,
    ScRules: route.scRules ?? [],
    AlbRules: route.albRules ?? [],
    DubboRules: route.dubboRules ?? [],
  };
}

function routeById(state: SaeState, id: unknown): GreyTagRouteEntry {
  const route = state.routes.find((candidate) => candidate.greyTagRouteId === id);
  if (!route) throw invalid(`The parameter is invalid {GreyTagRouteId}: no canary release rule ${String(id)}`);
  return route;
}

export function createGreyTagRoute(state: SaeState, params: Params): unknown {
  const appId = String(params["AppId"]);
  if (!state.model.apps.has(appId)) throw new SaeFault(400, "InvalidApplication.NotFound", "The current application does not exist.");
  const name = String(params["Name"]);
  if (!/^[a-z]([a-z0-9-]{0,62}[a-z0-9])?$/.test(name)) throw invalid("The parameter is invalid {Name}: lowercase letters, digits and hyphens, a letter first, 1 to 64 characters");
  if (state.routes.some((route) => route.appId === appId)) throw invalid("The parameter is invalid {AppId}: an application has at most one canary release rule");
  const rules = rulesOf(params);
  if (!rules.scRules && !rules.albRules && !rules.dubboRules) throw new SaeFault(400, "InvalidParameter.NotEmpty", "You must specify the parameter ScRules.");
  const now = tickTime();
  const route: GreyTagRouteEntry = { greyTagRouteId: state.nextId.value++, appId, name, description: String(params["Description"] ?? ""), ...rules, createTime: now, updateTime: now };
  state.routes.push(route);
  return { GreyTagRouteId: route.greyTagRouteId, AppId: appId };
}

export function updateGreyTagRoute(state: SaeState, params: Params): unknown {
  const route = routeById(state, params["GreyTagRouteId"]);
  const rules = rulesOf(params);
  if (!rules.scRules && !rules.albRules && !rules.dubboRules) throw new SaeFault(400, "InvalidParameter.NotEmpty", "You must specify the parameter ScRules.");
  Object.assign(route, { scRules: undefined, albRules: undefined, dubboRules: undefined }, rules, { updateTime: tickTime() });
  if (typeof params["Description"] === "string") route.description = params["Description"];
  return { GreyTagRouteId: route.greyTagRouteId, AppId: route.appId };
}

export function deleteGreyTagRoute(state: SaeState, params: Params): unknown {
  const route = routeById(state, params["GreyTagRouteId"]);
  state.routes.splice(state.routes.indexOf(route), 1);
  return { GreyTagRouteId: route.greyTagRouteId, AppId: route.appId };
}

export function listGreyTagRoute(state: SaeState, params: Params): unknown {
  const appId = String(params["AppId"]);
  if (!state.model.apps.has(appId)) throw new SaeFault(400, "InvalidApplication.NotFound", "The current application does not exist.");
  const routes = state.routes.filter((route) => route.appId === appId);
  return { CurrentPage: (params["CurrentPage"] as number | undefined) ?? 1, PageSize: (params["PageSize"] as number | undefined) ?? 10, TotalSize: routes.length, Result: routes.map(routeBody) };
}

function namespace(state: SaeState, namespaceId: unknown): string {
  const id = String(namespaceId);
  if (![...state.model.apps.values()].some((entry) => entry.namespaceId === id)) throw new SaeFault(404, "InvalidNamespaceId.NotFound", "The specified NamespaceId does not exist.");
  return id;
}

/** ConfigMap data: a JSON object of string values under keys Kubernetes accepts. */
function configData(raw: unknown): Record<string, string> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid("The parameter is invalid {Data}: a JSON object is required");
  for (const [key, value] of Object.entries(raw)) {
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) throw invalid(`The parameter is invalid {Data}: key ${key} must consist of letters, digits, '-', '_' or '.'`);
    if (typeof value !== "string") throw invalid(`The parameter is invalid {Data}: the value of ${key} must be a string`);
  }
  return raw as Record<string, string>;
}

function configMapBody(map: ConfigMapEntry): Record<string, unknown> {
  return { ConfigMapId: map.configMapId, Name: map.name, NamespaceId: map.namespaceId, Description: map.description, Data: map.data, CreateTime: map.createTime, UpdateTime: map.updateTime, RelateApps: [] };
}

export function createConfigMap(state: SaeState, params: Params): unknown {
  const namespaceId = namespace(state, params["NamespaceId"]);
  const name = String(params["Name"]);
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name)) throw invalid("The parameter is invalid {Name}: letters, digits and underscores, a letter first");
  if (state.configMaps.some((map) => map.namespaceId === namespaceId && map.name === name)) throw invalid(`The parameter is invalid {Name}: a ConfigMap named ${name} exists in ${namespaceId}`);
  const now = tickTime();
  const map: ConfigMapEntry = { configMapId: state.nextId.value++, namespaceId, name, description: String(params["Description"] ?? ""), data: configData(params["Data"]), createTime: now, updateTime: now };
  state.configMaps.push(map);
  return { ConfigMapId: map.configMapId };
}

export function updateConfigMap(state: SaeState, params: Params): unknown {
  const map = state.configMaps.find((candidate) => candidate.configMapId === params["ConfigMapId"]);
  if (!map) throw new SaeFault(400, "NotFound.ConfigMap", `The ConfigMap object (ID: ${String(params["ConfigMapId"])}) does not exist.`);
  map.data = configData(params["Data"]);
  if (typeof params["Description"] === "string") map.description = params["Description"];
  map.updateTime = tickTime();
  return { ConfigMapId: map.configMapId };
}

export function listNamespacedConfigMaps(state: SaeState, params: Params): unknown {
  const namespaceId = namespace(state, params["NamespaceId"]);
  return { ConfigMaps: state.configMaps.filter((map) => map.namespaceId === namespaceId).map(configMapBody) };
}
