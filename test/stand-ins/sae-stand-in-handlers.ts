// What each SAE action does to the stand-in's state and answers (the Data of SAE's envelope), with
// SAE's rules and error codes: one change at a time per application (Application.ChangerOrderRunning),
// batch releases need more than one instance and a gray batch of at most half of them,
// MinReadyInstances below the replicas, grey tag route and ConfigMap names in SAE's forms.
import { randomUUID } from "node:crypto";
import { ACTIVE_STATUSES, SaeModel, tickTime, type ChangeOrder, type Deployed, type StandInApp, type Strategy } from "./sae-stand-in-model";
import type { Params } from "./sae-stand-in-schema";

export class SaeFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GreyTagRouteEntry {
  greyTagRouteId: number;
  appId: string;
  name: string;
  description: string;
  scRules?: unknown[];
  albRules?: unknown[];
  dubboRules?: unknown[];
  createTime: number;
  updateTime: number;
}

export interface ConfigMapEntry {
  configMapId: number;
  namespaceId: string;
  name: string;
  description: string;
  data: Record<string, string>;
  createTime: number;
  updateTime: number;
}

export interface SaeState {
  model: SaeModel;
  routes: GreyTagRouteEntry[];
  configMaps: ConfigMapEntry[];
  nextId: { value: number };
}

const invalid = (message: string) => new SaeFault(400, "InvalidParameter.WithMessage", message);

function app(state: SaeState, appId: unknown): StandInApp {
  const found = state.model.apps.get(String(appId));
  if (!found) throw new SaeFault(400, "InvalidApplication.NotFound", "The current application does not exist.");
  return found;
}

function idle(state: SaeState, target: StandInApp): void {
  if (state.model.activeOrder(target.appId)) throw new SaeFault(400, "Application.ChangerOrderRunning", "An application change process is in progress. Please try again later.");
}

function isImage(packageType: string): boolean {
  return packageType === "Image" || packageType.startsWith("IMAGE_");
}

/** UpdateStrategy as SAE reads it, with SAE's rules for batches. */
function strategyOf(raw: unknown, replicas: number): Strategy | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null) throw invalid("The parameter is invalid {UpdateStrategy}: not a JSON object");
  const value = raw as { type?: unknown; batchUpdate?: { batch?: unknown; releaseType?: unknown }; grayUpdate?: { gray?: unknown } };
  if (value.type !== "GrayBatchUpdate" && value.type !== "BatchUpdate") throw invalid("The parameter is invalid {UpdateStrategy}: type must be GrayBatchUpdate or BatchUpdate");
  const batch = value.batchUpdate?.batch;
  const releaseType = value.batchUpdate?.releaseType;
  if (typeof batch !== "number" || !Number.isInteger(batch) || batch < 1) throw invalid("The parameter is invalid {UpdateStrategy}: batchUpdate.batch must be a whole number from 1");
  if (releaseType !== "auto" && releaseType !== "manual") throw invalid("The parameter is invalid {UpdateStrategy}: batchUpdate.releaseType must be auto or manual");
  let gray: number | undefined;
  if (value.type === "GrayBatchUpdate") {
    gray = value.grayUpdate?.gray as number;
    if (typeof gray !== "number" || !Number.isInteger(gray) || gray < 1) throw invalid("The parameter is invalid {UpdateStrategy}: grayUpdate.gray must be a whole number from 1");
  }
  if (replicas < 2 && (batch > 1 || gray !== undefined)) throw invalid("The parameter is invalid {UpdateStrategy}: a batch release needs more than one instance");
  if (gray !== undefined && gray > Math.floor(replicas / 2)) throw invalid(`The parameter is invalid {UpdateStrategy}: the gray batch may have at most half of the ${replicas} instances`);
  if ((gray ?? 0) + batch > replicas) throw invalid(`The parameter is invalid {UpdateStrategy}: ${batch} batches after ${gray ?? 0} gray instances need more than ${replicas} instances`);
  return { ...(gray !== undefined ? { gray } : {}), batch, manual: releaseType === "manual" };
}

function checkMinReady(params: Params, replicas: number): void {
  const minReady = params["MinReadyInstances"];
  if (typeof minReady === "number" && replicas > 1 && minReady >= replicas) {
    throw new SaeFault(400, "MinReadyInstances.Not.Smaller.Replicas", "The minimum number of available instances must be less than the number of application instances.");
  }
}

export function deployApplication(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  idle(state, target);
  const packageType = typeof params["PackageType"] === "string" ? params["PackageType"] : target.packageType;
  if (!["Image", "FatJar", "War", "PythonZip", "PhpZip", "DotnetZip"].includes(packageType) && !packageType.startsWith("IMAGE_")) {
    throw new SaeFault(400, "InvalidPackageType.NotFound", "The package type must be War, FatJar, or Image.");
  }
  if (isImage(packageType) !== isImage(target.packageType)) throw invalid(`The parameter is invalid {PackageType}: the application deploys ${target.packageType}`);
  const deployed: Deployed = { ...target.config, enableGreyTagRoute: params["EnableGreyTagRoute"] === true };
  if (isImage(packageType)) {
    if (params["PackageUrl"] !== undefined) throw invalid("The parameter is invalid {PackageUrl}: an image application deploys ImageUrl");
    if (typeof params["ImageUrl"] === "string") deployed.imageUrl = params["ImageUrl"];
  } else {
    if (params["ImageUrl"] !== undefined) throw invalid("The parameter is invalid {ImageUrl}: a package application deploys PackageUrl");
    if (typeof params["PackageUrl"] === "string") {
      if (typeof params["PackageVersion"] !== "string") throw new SaeFault(400, "InvalidParameter.NotEmpty", "You must specify the parameter PackageVersion.");
      deployed.packageUrl = params["PackageUrl"];
      deployed.packageVersion = params["PackageVersion"];
    }
  }
  checkMinReady(params, target.replicas);
  const strategy = strategyOf(params["UpdateStrategy"], target.replicas);
  target.versions.unshift({ id: randomUUID(), createTime: String(tickTime()), deployed });
  const order = state.model.startOrder(target, deployed, strategy, "CoDeploy", typeof params["ChangeOrderDesc"] === "string" ? params["ChangeOrderDesc"] : "");
  return { ChangeOrderId: order.changeOrderId, AppId: target.appId, IsNeedApproval: false };
}

export function rollbackApplication(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  idle(state, target);
  const version = target.versions.find((entry) => entry.id === params["VersionId"]);
  if (!version) throw invalid(`The parameter is invalid {VersionId}: no version ${String(params["VersionId"])} of this application`);
  checkMinReady(params, target.replicas);
  const strategy = strategyOf(params["UpdateStrategy"], target.replicas);
  const order = state.model.startOrder(target, version.deployed, strategy, "CoRollback", `Rollback to ${version.id}`);
  return { ChangeOrderId: order.changeOrderId, IsNeedApproval: false };
}

function orderById(state: SaeState, id: unknown): ChangeOrder {
  const order = state.model.orders.find((candidate) => candidate.changeOrderId === id);
  if (!order) throw invalid(`The parameter is invalid {ChangeOrderId}: change order ${String(id)} does not exist`);
  return order;
}

export function describeChangeOrder(state: SaeState, params: Params): unknown {
  const order = orderById(state, params["ChangeOrderId"]);
  const target = state.model.apps.get(order.appId);
  return {
    ChangeOrderId: order.changeOrderId,
    AppId: order.appId,
    AppName: target?.appName,
    Status: order.status,
    SubStatus: order.subStatus,
    CoType: order.coTypeCode === "CoDeploy" ? "Deploy application" : "Roll back application",
    CoTypeCode: order.coTypeCode,
    CreateTime: order.createTime,
    Description: order.description,
    ErrorMessage: order.errorMessage ?? "",
    BatchCount: order.pipelines.length,
    BatchType: order.batchType,
    BatchWaitTime: 0,
    Auto: order.batchType === "Auto",
    SupportRollback: ACTIVE_STATUSES.has(order.status),
    CurrentPipelineId: order.pipelines[Math.min(order.current, order.pipelines.length - 1)]?.pipelineId,
    Pipelines: order.pipelines.map((pipeline) => ({
      PipelineId: pipeline.pipelineId,
      PipelineName: pipeline.pipelineName,
      Status: pipeline.status,
      BatchType: pipeline.manual ? 1 : 0,
      ParallelCount: pipeline.instances,
      StartTime: pipeline.startTime,
      UpdateTime: pipeline.updateTime,
    })),
  };
}

export function listChangeOrders(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  const page = (params["CurrentPage"] as number | undefined) ?? 1;
  const size = (params["PageSize"] as number | undefined) ?? 10;
  const all = state.model.orders.filter((order) => order.appId === target.appId && (params["CoStatus"] === undefined || String(order.status) === params["CoStatus"]));
  return {
    CurrentPage: page,
    PageSize: size,
    TotalSize: all.length,
    ChangeOrderList: all.slice((page - 1) * size, page * size).map((order) => ({
      ChangeOrderId: order.changeOrderId,
      AppId: order.appId,
      Status: order.status,
      CoType: order.coTypeCode,
      CoTypeCode: order.coTypeCode,
      CreateTime: order.createTime,
      FinishTime: order.finishTime,
      BatchCount: order.pipelines.length,
      BatchType: order.batchType,
      Description: order.description,
      Source: "api",
    })),
  };
}

export function confirmPipelineBatch(state: SaeState, params: Params): unknown {
  const order = state.model.confirm(String(params["PipelineId"]), params["Confirm"] === true);
  if (!order) throw invalid(`The parameter is invalid {PipelineId}: batch ${String(params["PipelineId"])} is not waiting for confirmation`);
  return { PipelineId: params["PipelineId"] };
}

export function abortAndRollbackChangeOrder(state: SaeState, params: Params): unknown {
  const order = orderById(state, params["ChangeOrderId"]);
  if (!ACTIVE_STATUSES.has(order.status)) throw invalid(`The parameter is invalid {ChangeOrderId}: change order ${order.changeOrderId} is not running`);
  return { ChangeOrderId: state.model.abortAndRollback(order).changeOrderId };
}

function releaseFields(target: StandInApp, deployed: Deployed): Record<string, unknown> {
  return isImage(target.packageType)
    ? { ImageUrl: deployed.imageUrl }
    : { PackageUrl: deployed.packageUrl, PackageVersion: deployed.packageVersion, ImageUrl: `registry-vpc.${target.regionId}.aliyuncs.com/sae-serverless-user/${target.appId}:${deployed.packageVersion}` };
}

export function describeApplicationConfig(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  let deployed = target.config;
  if (params["VersionId"] !== undefined) {
    const version = target.versions.find((entry) => entry.id === params["VersionId"]);
    if (!version) throw invalid(`The parameter is invalid {VersionId}: no version ${String(params["VersionId"])} of this application`);
    deployed = version.deployed;
  }
  return {
    AppId: target.appId,
    AppName: target.appName,
    NamespaceId: target.namespaceId,
    RegionId: target.regionId,
    PackageType: target.packageType,
    Replicas: target.replicas,
    Cpu: 1000,
    Memory: 2048,
    MinReadyInstances: 1,
    EnableGreyTagRoute: deployed.enableGreyTagRoute,
    AppSource: "micro_service",
    ...releaseFields(target, deployed),
  };
}

export function describeApplicationGroups(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  return [
    {
      GroupId: target.groupId,
      GroupName: "_DEFAULT_GROUP",
      GroupType: 0,
      PackageType: target.packageType,
      Replicas: target.replicas,
      RunningInstances: target.instances.length,
      ...releaseFields(target, target.config),
    },
  ];
}

export function describeApplicationInstances(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  if (params["GroupId"] !== target.groupId) throw invalid(`The parameter is invalid {GroupId}: group ${String(params["GroupId"])} is not a group of this application`);
  const page = (params["CurrentPage"] as number | undefined) ?? 1;
  const size = (params["PageSize"] as number | undefined) ?? 10;
  return {
    CurrentPage: page,
    PageSize: size,
    TotalSize: target.instances.length,
    Instances: target.instances.slice((page - 1) * size, page * size).map((instance) => ({
      InstanceId: instance.instanceId,
      GroupId: target.groupId,
      InstanceContainerStatus: "Running",
      InstanceHealthStatus: "Healthy",
      CreateTimeStamp: instance.createTimeStamp,
      VSwitchId: "vsw-standin",
      ...releaseFields(target, instance.runs),
    })),
  };
}

export function listAppVersions(state: SaeState, params: Params): unknown {
  const target = app(state, params["AppId"]);
  return target.versions.map((version) => ({
    Id: version.id,
    CreateTime: version.createTime,
    Type: isImage(target.packageType) ? "image" : "url",
    WarUrl: isImage(target.packageType) ? version.deployed.imageUrl : version.deployed.packageUrl,
    BuildPackageUrl: isImage(target.packageType) ? undefined : version.deployed.packageUrl,
  }));
}
