// The SAE (2019-05-06) actions the stand-in serves, as SAE's API metadata describes them: method,
// path, and each parameter's place (query or form body), type and whether it is required. Requests
// are checked against this before any handler runs; a wrong one gets SAE's answer
// (InvalidParameter.NotEmpty / InvalidParameter.Obviously, HTTP 400). Kept apart from the provider's
// own table on purpose, so a wrong path or parameter name there fails a test.
export type ParamType = "string" | "integer" | "boolean" | "json";

export interface ParamSpec {
  type: ParamType;
  required?: boolean;
  /** Where SAE reads it; query unless said. */
  in?: "query" | "body";
}

export interface ActionSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  params: Record<string, ParamSpec>;
}

const S = (required = false): ParamSpec => ({ type: "string", ...(required ? { required } : {}) });
const I = (required = false): ParamSpec => ({ type: "integer", ...(required ? { required } : {}) });
const B = (required = false): ParamSpec => ({ type: "boolean", ...(required ? { required } : {}) });
const J = (required = false): ParamSpec => ({ type: "json", ...(required ? { required } : {}) });

const deployParams: Record<string, ParamSpec> = {
  AppId: S(true),
  PackageType: S(),
  ImageUrl: S(),
  PackageUrl: S(),
  PackageVersion: S(),
  UpdateStrategy: J(),
  MinReadyInstances: I(),
  MinReadyInstanceRatio: I(),
  BatchWaitTime: I(),
  EnableGreyTagRoute: B(),
  ChangeOrderDesc: S(),
  Replicas: I(),
  Envs: J(),
  Command: S(),
  CommandArgs: J(),
  Deploy: S(),
  AutoEnableApplicationScalingRule: B(),
  Jdk: S(),
  WebContainer: S(),
};

export const ACTIONS: Record<string, ActionSpec> = {
  DescribeApplicationConfig: { method: "GET", path: "/pop/v1/sam/app/describeApplicationConfig", params: { AppId: S(true), VersionId: S() } },
  DescribeApplicationGroups: { method: "GET", path: "/pop/v1/sam/app/describeApplicationGroups", params: { AppId: S(true), CurrentPage: I(), PageSize: I() } },
  DescribeApplicationInstances: {
    method: "GET",
    path: "/pop/v1/sam/app/describeApplicationInstances",
    params: { AppId: S(true), GroupId: S(true), CurrentPage: I(), PageSize: I(), InstanceId: S(), PipelineId: S(), Reverse: B() },
  },
  ListAppVersions: { method: "GET", path: "/pop/v1/sam/app/listAppVersions", params: { AppId: S(true) } },
  DeployApplication: { method: "POST", path: "/pop/v1/sam/app/deployApplication", params: deployParams },
  RollbackApplication: {
    method: "PUT",
    path: "/pop/v1/sam/app/rollbackApplication",
    params: { AppId: S(true), VersionId: S(true), BatchWaitTime: I(), MinReadyInstances: I(), MinReadyInstanceRatio: I(), UpdateStrategy: J(), AutoEnableApplicationScalingRule: S() },
  },
  ListChangeOrders: {
    method: "GET",
    path: "/pop/v1/sam/changeorder/ListChangeOrders",
    params: { AppId: S(true), CoType: S(), CoStatus: S(), CurrentPage: I(), PageSize: I(), Key: S(), OrderBy: S(), Reverse: B() },
  },
  DescribeChangeOrder: { method: "GET", path: "/pop/v1/sam/changeorder/DescribeChangeOrder", params: { ChangeOrderId: S(true) } },
  ConfirmPipelineBatch: { method: "GET", path: "/pop/v1/sam/changeorder/ConfirmPipelineBatch", params: { PipelineId: S(true), Confirm: B(true) } },
  AbortAndRollbackChangeOrder: { method: "PUT", path: "/pop/v1/sam/changeorder/AbortAndRollbackChangeOrder", params: { ChangeOrderId: S(true) } },
  ListGreyTagRoute: { method: "GET", path: "/pop/v1/sam/tagroute/greyTagRouteList", params: { AppId: S(true), CurrentPage: I(), PageSize: I(), OrderBy: S(), Reverse: B() } },
  CreateGreyTagRoute: { method: "POST", path: "/pop/v1/sam/tagroute/greyTagRoute", params: { AppId: S(true), Name: S(true), Description: S(), ScRules: J(), DubboRules: J(), AlbRules: J() } },
  UpdateGreyTagRoute: { method: "PUT", path: "/pop/v1/sam/tagroute/greyTagRoute", params: { GreyTagRouteId: I(true), Description: S(), ScRules: J(), DubboRules: J(), AlbRules: J() } },
  DeleteGreyTagRoute: { method: "DELETE", path: "/pop/v1/sam/tagroute/greyTagRoute", params: { GreyTagRouteId: I(true) } },
  ListNamespacedConfigMaps: { method: "GET", path: "/pop/v1/sam/configmap/listNamespacedConfigMaps", params: { NamespaceId: S(true) } },
  CreateConfigMap: {
    method: "POST",
    path: "/pop/v1/sam/configmap/configMap",
    params: { NamespaceId: S(true), Name: S(true), Description: S(), Data: { type: "json", required: true, in: "body" } },
  },
  UpdateConfigMap: {
    method: "PUT",
    path: "/pop/v1/sam/configmap/configMap",
    params: { ConfigMapId: I(true), Data: { type: "json", required: true, in: "body" }, Description: { type: "string", in: "body" } },
  },
};

/** Parameter values after checking: strings as sent, integers and booleans converted, JSON parsed. */
export type Params = Record<string, string | number | boolean | unknown>;

export type ParamProblem = { code: "InvalidParameter.NotEmpty" | "InvalidParameter.Obviously"; message: string };

/** Checks and converts one request's parameters; unknown names are refused (a typo in Gust's call). */
export function checkParams(spec: ActionSpec, query: Record<string, string>, body: Record<string, string>): { params: Params } | { problem: ParamProblem } {
  const params: Params = {};
  for (const name of Object.keys(query)) {
    if (!spec.params[name] || spec.params[name]!.in === "body") return { problem: { code: "InvalidParameter.Obviously", message: `The specified parameter is invalid {${name}}.` } };
  }
  for (const [name, param] of Object.entries(spec.params)) {
    const raw = param.in === "body" ? body[name] : query[name];
    if (raw === undefined || raw === "") {
      if (param.required) return { problem: { code: "InvalidParameter.NotEmpty", message: `You must specify the parameter ${name}.` } };
      continue;
    }
    const value = convert(param.type, raw);
    if (value === INVALID) return { problem: { code: "InvalidParameter.Obviously", message: `The specified parameter is invalid {${name}}.` } };
    params[name] = value;
  }
  return { params };
}

const INVALID = Symbol("invalid");

function convert(type: ParamType, raw: string): unknown {
  switch (type) {
    case "string":
      return raw;
    case "integer":
      return /^-?\d+$/.test(raw) ? Number(raw) : INVALID;
    case "boolean":
      return raw === "true" ? true : raw === "false" ? false : INVALID;
    case "json":
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return INVALID;
      }
  }
}
