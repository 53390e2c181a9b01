// Typed SAE actions over SaeClient: each reads only the fields Gust uses from SAE's answers
// (field names as SAE's API metadata gives them) and turns them into plain values.
import { ProviderError } from "../../errors";
import type { SaeClient } from "./sae-client";

export interface AppConfig {
  appId: string;
  namespaceId: string;
  packageType: string;
  imageUrl?: string;
  packageUrl?: string;
  packageVersion?: string;
  replicas: number;
  enableGreyTagRoute: boolean;
}

export interface Instance {
  instanceId: string;
  imageUrl?: string;
  packageVersion?: string;
  status: string;
}

export interface ChangeOrderSummary {
  changeOrderId: string;
  status: number;
  createTime: string;
  coTypeCode?: string;
}

export interface ChangeOrder {
  changeOrderId: string;
  status: number;
  subStatus?: number;
  currentPipelineId?: string;
  errorMessage?: string;
  pipelines: Array<{ pipelineId: string; status: number }>;
}

export interface AppVersion {
  id: string;
  createTime: string;
  type?: string;
  /** The image URL (image applications) or package URL (package applications). */
  warUrl?: string;
}

export interface GreyTagRoute {
  greyTagRouteId: number;
  name: string;
  albRules?: unknown;
  scRules?: unknown;
}

export interface ConfigMap {
  configMapId: number;
  name: string;
  data: Record<string, unknown>;
}

type Raw = Record<string, unknown>;

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : typeof value === "number" ? String(value) : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)) ? Number(value) : undefined);
const list = (value: unknown): Raw[] => (Array.isArray(value) ? (value.filter((item) => typeof item === "object" && item !== null) as Raw[]) : []);

export class SaeApi {
  constructor(private readonly client: SaeClient) {}

  /** The application's configuration now, or as deployment `versionId` (an id from ListAppVersions) left it. */
  async describeConfig(appId: string, versionId?: string): Promise<AppConfig> {
    const data = (await this.client.call<Raw | undefined>("DescribeApplicationConfig", { AppId: appId, VersionId: versionId })) ?? {};
    const config: AppConfig = {
      appId,
      namespaceId: str(data["NamespaceId"]) ?? "",
      packageType: str(data["PackageType"]) ?? "Image",
      replicas: num(data["Replicas"]) ?? 0,
      enableGreyTagRoute: data["EnableGreyTagRoute"] === true || data["EnableGreyTagRoute"] === "true",
    };
    const imageUrl = str(data["ImageUrl"]);
    const packageUrl = str(data["PackageUrl"]);
    const packageVersion = str(data["PackageVersion"]);
    return { ...config, ...(imageUrl ? { imageUrl } : {}), ...(packageUrl ? { packageUrl } : {}), ...(packageVersion ? { packageVersion } : {}) };
  }

  /** Every instance of every group of the application (instances are listed per group, by pages). */
  async instances(appId: string): Promise<Instance[]> {
    const groups = list(await this.client.call<unknown>("DescribeApplicationGroups", { AppId: appId }));
    const instances: Instance[] = [];
    for (const group of groups) {
      const groupId = str(group["GroupId"]);
      if (!groupId) continue;
      for (let page = 1; page <= 100; page += 1) {
        const data = (await this.client.call<Raw | undefined>("DescribeApplicationInstances", { AppId: appId, GroupId: groupId, CurrentPage: page, PageSize: 100 })) ?? {};
        const rows = list(data["Instances"]);
        for (const row of rows) {
          const imageUrl = str(row["ImageUrl"]);
          const packageVersion = str(row["PackageVersion"]);
          instances.push({ instanceId: str(row["InstanceId"]) ?? "", status: str(row["InstanceContainerStatus"]) ?? "Unknown", ...(imageUrl ? { imageUrl } : {}), ...(packageVersion ? { packageVersion } : {}) });
        }
        const total = num(data["TotalSize"]) ?? 0;
        if (rows.length === 0 || page * 100 >= total) break;
      }
    }
    return instances;
  }

  /** The application's newest change orders, newest first. */
  async recentOrders(appId: string): Promise<ChangeOrderSummary[]> {
    const data = (await this.client.call<Raw | undefined>("ListChangeOrders", { AppId: appId, CurrentPage: 1, PageSize: 10 })) ?? {};
    return list(data["ChangeOrderList"])
      .map((row) => ({ changeOrderId: str(row["ChangeOrderId"]) ?? "", status: num(row["Status"]) ?? -1, createTime: str(row["CreateTime"]) ?? "", ...(str(row["CoTypeCode"]) ? { coTypeCode: str(row["CoTypeCode"])! } : {}) }))
      .filter((order) => order.changeOrderId !== "")
      .sort((a, b) => (a.createTime < b.createTime ? 1 : a.createTime > b.createTime ? -1 : 0));
  }

  async describeOrder(changeOrderId: string): Promise<ChangeOrder> {
    const data = (await this.client.call<Raw | undefined>("DescribeChangeOrder", { ChangeOrderId: changeOrderId })) ?? {};
    const order: ChangeOrder = {
      changeOrderId,
      status: num(data["Status"]) ?? -1,
      pipelines: list(data["Pipelines"]).map((row) => ({ pipelineId: str(row["PipelineId"]) ?? "", status: num(row["Status"]) ?? -1 })),
    };
    const subStatus = num(data["SubStatus"]);
    const current = str(data["CurrentPipelineId"]);
    const errorMessage = str(data["ErrorMessage"]);
    return { ...order, ...(subStatus !== undefined ? { subStatus } : {}), ...(current ? { currentPipelineId: current } : {}), ...(errorMessage ? { errorMessage } : {}) };
  }

  /** Starts a deployment; gives its change order. */
  async deploy(query: Record<string, string | number | boolean | undefined>): Promise<string> {
    const data = await this.client.call<Raw | undefined>("DeployApplication", query);
    return requiredOrderId(data, "DeployApplication");
  }

  async rollback(query: Record<string, string | number | boolean | undefined>): Promise<string> {
    const data = await this.client.call<Raw | undefined>("RollbackApplication", query);
    return requiredOrderId(data, "RollbackApplication");
  }

  async confirm(pipelineId: string): Promise<void> {
    await this.client.call("ConfirmPipelineBatch", { PipelineId: pipelineId, Confirm: true });
  }

  /** Stops the change order and puts the instances it moved back; gives the order to follow. */
  async abortAndRollback(changeOrderId: string): Promise<string> {
    const data = await this.client.call<Raw | undefined>("AbortAndRollbackChangeOrder", { ChangeOrderId: changeOrderId });
    return str(data?.["ChangeOrderId"]) ?? changeOrderId;
  }

  async appVersions(appId: string): Promise<AppVersion[]> {
    const rows = list(await this.client.call<unknown>("ListAppVersions", { AppId: appId }));
    return rows.map((row) => ({ id: str(row["Id"]) ?? "", createTime: str(row["CreateTime"]) ?? "", ...(str(row["Type"]) ? { type: str(row["Type"])! } : {}), ...(str(row["WarUrl"]) ? { warUrl: str(row["WarUrl"])! } : {}) })).filter((version) => version.id !== "");
  }

  async greyTagRoutes(appId: string): Promise<GreyTagRoute[]> {
    const data = (await this.client.call<Raw | undefined>("ListGreyTagRoute", { AppId: appId, CurrentPage: 1, PageSize: 50 })) ?? {};
    return list(data["Result"]).map((row) => ({ greyTagRouteId: num(row["GreyTagRouteId"]) ?? -1, name: str(row["Name"]) ?? "", albRules: row["AlbRules"], scRules: row["ScRules"] }));
  }

  async createGreyTagRoute(query: Record<string, string>): Promise<void> {
    await this.client.call("CreateGreyTagRoute", query);
  }

  async updateGreyTagRoute(query: Record<string, string | number>): Promise<void> {
    await this.client.call("UpdateGreyTagRoute", query);
  }

  async deleteGreyTagRoute(greyTagRouteId: number): Promise<void> {
    await this.client.call("DeleteGreyTagRoute", { GreyTagRouteId: greyTagRouteId });
  }

  async configMaps(namespaceId: string): Promise<ConfigMap[]> {
    const data = (await this.client.call<Raw | undefined>("ListNamespacedConfigMaps", { NamespaceId: namespaceId })) ?? {};
    return list(data["ConfigMaps"]).map((row) => ({ configMapId: num(row["ConfigMapId"]) ?? -1, name: str(row["Name"]) ?? "", data: typeof row["Data"] === "object" && row["Data"] !== null ? (row["Data"] as Record<string, unknown>) : {} }));
  }

  async createConfigMap(namespaceId: string, name: string, data: Record<string, string>, description: string): Promise<void> {
    await this.client.call("CreateConfigMap", { NamespaceId: namespaceId, Name: name, Description: description }, { Data: JSON.stringify(data) });
  }

  async updateConfigMap(configMapId: number, data: Record<string, string>, description: string): Promise<void> {
    await this.client.call("UpdateConfigMap", { ConfigMapId: configMapId }, { Data: JSON.stringify(data), Description: description });
  }
}

function requiredOrderId(data: Raw | undefined, action: string): string {
  const id = str(data?.["ChangeOrderId"]);
  if (!id) throw new ProviderError(`${action} answered without a ChangeOrderId`, { retryable: false, code: "sae_unexpected_answer" });
  return id;
}
