// FcApi over the official SDK (@alicloud/fc20230330). Only this file knows the SDK's request and
// model classes and the service's error codes; the SDK's own retries stay off (Gust's controller
// decides when to call again).
import FcModule, {
  CreateAliasInput,
  CreateAliasRequest,
  CreateFunctionInput,
  CreateFunctionRequest,
  CustomContainerConfig,
  GetFunctionRequest,
  InputCodeLocation,
  ListFunctionVersionsRequest,
  PublishFunctionVersionRequest,
  PublishVersionInput,
  UpdateAliasInput,
  UpdateAliasRequest,
  UpdateFunctionInput,
  UpdateFunctionRequest,
  type Alias,
  type Version,
} from "@alicloud/fc20230330";
import type { $OpenApiUtil } from "@alicloud/openapi-core";
import { cjsDefault, providerErrorFrom, serviceErrorOf } from "../alicloud-client";
import type { VersionInfo } from "../deploy-provider";
import type { FcApi, FcFunctionStatus } from "./fc-api";
import type { FcFunctionSettings } from "./fc-settings";
import type { FcAliasValue } from "./fc-traffic";

const FcClient = cjsDefault(FcModule);
const PAGE = 100;

/** The service's code when the SDK reports one (FunctionNotFound, AliasAlreadyExists, …). */
function codeOf(error: unknown): string | undefined {
  return serviceErrorOf(error)?.code;
}

/** The service's wording, for the answers FC gives without a code of their own. */
function saysThat(error: unknown, pattern: RegExp): boolean {
  const service = serviceErrorOf(error);
  const said = service?.data?.["Message"] ?? service?.data?.["message"];
  return pattern.test(`${service?.message ?? ""} ${typeof said === "string" ? said : ""}`);
}

const NO_CHANGES_PUBLISHED = /No changes were made since last publish/i;
const ALIAS_UNCHANGED = /without any change/i;

function functionInput(settings: FcFunctionSettings): Record<string, unknown> {
  return {
    runtime: settings.runtime,
    handler: settings.handler,
    environmentVariables: settings.environmentVariables,
    ...(settings.memorySize === undefined ? {} : { memorySize: settings.memorySize }),
    ...(settings.cpu === undefined ? {} : { cpu: settings.cpu }),
    ...(settings.timeout === undefined ? {} : { timeout: settings.timeout }),
    ...(settings.instanceConcurrency === undefined ? {} : { instanceConcurrency: settings.instanceConcurrency }),
    ...(settings.code ? { code: new InputCodeLocation({ zipFile: settings.code.zipFile }) } : {}),
    ...(settings.customContainerConfig ? { customContainerConfig: new CustomContainerConfig({ image: settings.customContainerConfig.image }) } : {}),
  };
}

function versionInfo(version: Pick<Version, "versionId" | "createdTime" | "description">): VersionInfo {
  const created = version.createdTime ? new Date(version.createdTime) : undefined;
  return {
    version: version.versionId ?? "",
    ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}),
    ...(version.description ? { description: version.description } : {}),
  };
}

function aliasValue(alias: Pick<Alias, "versionId" | "additionalVersionWeight">): FcAliasValue {
  return { versionId: alias.versionId ?? "", additionalVersionWeight: { ...(alias.additionalVersionWeight ?? {}) } };
}

/** Version ids are increasing integers: newest first is highest first. */
function newestFirst(a: VersionInfo, b: VersionInfo): number {
  const [x, y] = [Number(a.version), Number(b.version)];
  if (Number.isFinite(x) && Number.isFinite(y)) return y - x;
  return a.version < b.version ? 1 : a.version > b.version ? -1 : 0;
}

export class SdkFcApi implements FcApi {
  private readonly client: InstanceType<typeof FcClient>;

  constructor(config: $OpenApiUtil.Config) {
    this.client = new FcClient(config);
  }

  async getFunction(name: string): Promise<FcFunctionStatus | undefined> {
    try {
      const { body } = await this.client.getFunction(name, new GetFunctionRequest({}));
      return {
        ...(body?.lastUpdateStatus ? { lastUpdateStatus: body.lastUpdateStatus } : {}),
        ...(body?.lastUpdateStatusReason ? { lastUpdateStatusReason: body.lastUpdateStatusReason } : {}),
        ...(body?.state ? { state: body.state } : {}),
        ...(body?.stateReason ? { stateReason: body.stateReason } : {}),
      };
    } catch (error) {
      if (codeOf(error) === "FunctionNotFound") return undefined;
      throw providerErrorFrom(error, `GetFunction ${name}`);
    }
  }

  async createFunction(name: string, settings: FcFunctionSettings): Promise<"created" | "exists"> {
    try {
      await this.client.createFunction(new CreateFunctionRequest({ body: new CreateFunctionInput({ functionName: name, ...functionInput(settings) }) }));
      return "created";
    } catch (error) {
      if (codeOf(error) === "FunctionAlreadyExists") return "exists";
      throw providerErrorFrom(error, `CreateFunction ${name}`);
    }
  }

  async updateFunction(name: string, settings: FcFunctionSettings): Promise<void> {
    try {
      await this.client.updateFunction(name, new UpdateFunctionRequest({ body: new UpdateFunctionInput(functionInput(settings)) }));
    } catch (error) {
      throw providerErrorFrom(error, `UpdateFunction ${name}`);
    }
  }

  async publishVersion(name: string, description: string): Promise<VersionInfo | "unchanged"> {
    try {
      const { body } = await this.client.publishFunctionVersion(name, new PublishFunctionVersionRequest({ body: new PublishVersionInput({ description }) }));
      return versionInfo(body ?? {});
    } catch (error) {
      if (saysThat(error, NO_CHANGES_PUBLISHED)) return "unchanged";
      throw providerErrorFrom(error, `PublishFunctionVersion ${name}`);
    }
  }

  async listVersions(name: string): Promise<VersionInfo[]> {
    const versions: VersionInfo[] = [];
    let nextToken: string | undefined;
    do {
      try {
        const { body } = await this.client.listFunctionVersions(
          name,
          new ListFunctionVersionsRequest({ direction: "BACKWARD", limit: PAGE, ...(nextToken ? { nextToken } : {}) }),
        );
        versions.push(...(body?.versions ?? []).map(versionInfo));
        nextToken = body?.nextToken || undefined;
      } catch (error) {
        if (codeOf(error) === "FunctionNotFound") return [];
        throw providerErrorFrom(error, `ListFunctionVersions ${name}`);
      }
    } while (nextToken);
    return versions.sort(newestFirst);
  }

  async deleteVersion(name: string, versionId: string): Promise<void> {
    try {
      await this.client.deleteFunctionVersion(name, versionId);
    } catch (error) {
      const code = codeOf(error);
      if (code === "VersionNotFound" || code === "FunctionNotFound") return;
      throw providerErrorFrom(error, `DeleteFunctionVersion ${name} ${versionId}`);
    }
  }

  async getAlias(name: string, alias: string): Promise<FcAliasValue | undefined> {
    try {
      const { body } = await this.client.getAlias(name, alias);
      return aliasValue(body ?? {});
    } catch (error) {
      const code = codeOf(error);
      if (code === "AliasNotFound" || code === "FunctionNotFound") return undefined;
      throw providerErrorFrom(error, `GetAlias ${name}@${alias}`);
    }
  }

  async createAlias(name: string, alias: string, value: FcAliasValue): Promise<FcAliasValue | "exists"> {
    try {
      const { body } = await this.client.createAlias(
        name,
        new CreateAliasRequest({ body: new CreateAliasInput({ aliasName: alias, versionId: value.versionId, additionalVersionWeight: value.additionalVersionWeight }) }),
      );
      return aliasValue(body ?? {});
    } catch (error) {
      if (codeOf(error) === "AliasAlreadyExists") return "exists";
      throw providerErrorFrom(error, `CreateAlias ${name}@${alias}`);
    }
  }

  async updateAlias(name: string, alias: string, value: FcAliasValue): Promise<FcAliasValue | "missing" | "unchanged"> {
    try {
      const { body } = await this.client.updateAlias(
        name,
        alias,
        // An empty map is sent as it is: leaving it out would keep the canary's weight.
        new UpdateAliasRequest({ body: new UpdateAliasInput({ versionId: value.versionId, additionalVersionWeight: value.additionalVersionWeight }) }),
      );
      return aliasValue(body ?? {});
    } catch (error) {
      if (codeOf(error) === "AliasNotFound") return "missing";
      if (saysThat(error, ALIAS_UNCHANGED)) return "unchanged";
      throw providerErrorFrom(error, `UpdateAlias ${name}@${alias}`);
    }
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    try {
      await this.client.deleteAlias(name, alias);
    } catch (error) {
      const code = codeOf(error);
      if (code === "AliasNotFound" || code === "FunctionNotFound") return;
      throw providerErrorFrom(error, `DeleteAlias ${name}@${alias}`);
    }
  }
}
