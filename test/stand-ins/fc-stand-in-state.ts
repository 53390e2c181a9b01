// The FC 3.0 stand-in's model: functions with their code and settings, immutable versions (ids are
// increasing integers, never reused), and aliases with one weighted additional version. Each method
// is one API action over parsed input and answers the JSON FC answers (camelCase, the fields of the
// SDK's Function / Version / Alias models) or throws the FcFault FC would answer.
//
// Behaviour beyond the published facts, marked where it is decided (UNVERIFIED against the real
// service): the update-in-progress refusal, the no-change and referenced-version error codes, the
// default cpu for a memory size.
import { createHash, randomUUID } from "node:crypto";
import {
  checkCpuMemory,
  FcFault,
  functionSettings,
  invalid,
  NAME,
  optionalString,
  requiredString,
  weights,
  type Body,
  type FunctionSettings,
} from "./fc-stand-in-validation";

export interface VersionRecord {
  versionId: string;
  description: string;
  createdTime: string;
  /** The code and settings the version froze. */
  revision: string;
}

export interface AliasRecord {
  aliasName: string;
  versionId: string;
  additionalVersionWeight: Record<string, number>;
  description: string;
  createdTime: string;
  lastModifiedTime: string;
}

export interface FunctionRecord {
  functionName: string;
  functionId: string;
  createdTime: string;
  lastModifiedTime: string;
  settings: Required<Omit<FunctionSettings, "zip" | "image">> & { zip?: Buffer; image?: string };
  state: "Pending" | "Active" | "Failed";
  lastUpdateStatus: "InProgress" | "Successful" | "Failed";
  lastUpdateStatusReason?: string;
  /** GetFunction reads left that still see InProgress. */
  pendingReads: number;
  /** The next create or update ends Failed with this reason. */
  failWith?: string;
  versions: Map<string, VersionRecord>;
  nextVersion: number;
  /** Revision of the last publish, deleted or not: FC compares against it. */
  lastPublished?: string;
  aliases: Map<string, AliasRecord>;
}

export interface FcStateOptions {
  region: string;
  accountId: string;
  /** GetFunction reads that see InProgress after each create or update. */
  updateReads: number;
  /** Entries allowed in additionalVersionWeight (one: UNVERIFIED whether FC takes more). */
  maxAdditionalVersions: number;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
const notFound = (code: string, message: string) => new FcFault(404, code, message);

function revisionOf(settings: FunctionRecord["settings"]): string {
  const { zip, ...rest } = settings;
  return createHash("sha256")
    .update(JSON.stringify({ ...rest, zip: zip ? createHash("sha256").update(zip).digest("hex") : null }))
    .digest("hex");
}

export class FcState {
  readonly functions = new Map<string, FunctionRecord>();

  constructor(private readonly options: FcStateOptions) {}

  /** The next create or update of `name` ends with lastUpdateStatus Failed. */
  failNextUpdate(name: string, reason: string): void {
    this.fn(name).failWith = reason;
  }

  createFunction(body: Body): Body {
    const name = requiredString(body, "functionName", 128);
    if (!NAME.test(name)) throw invalid(`functionName '${name}' must start with a letter or underscore and hold only letters, digits, '_' and '-' (at most 128)`);
    if (this.functions.has(name)) throw new FcFault(409, "FunctionAlreadyExists", `function '${name}' already exists`);
    const given = functionSettings(body);
    if (!given.runtime) throw invalid("runtime is required");
    if (!given.handler) throw invalid("handler is required");
    if (given.runtime === "custom-container" ? !given.image : !given.zip) {
      throw invalid(given.runtime === "custom-container" ? "customContainerConfig.image is required for runtime custom-container" : "code is required");
    }
    const memorySize = given.memorySize ?? 512;
    // Without a cpu FC picks one that fits the memory (UNVERIFIED which): half a vCPU per GB here.
    const cpu = given.cpu ?? (given.memorySize === undefined ? 0.35 : Math.max(0.05, Math.round((memorySize / 1024 / 2) * 20) / 20));
    checkCpuMemory(cpu, memorySize);
    const created = now();
    const record: FunctionRecord = {
      functionName: name,
      functionId: randomUUID(),
      createdTime: created,
      lastModifiedTime: created,
      settings: {
        runtime: given.runtime,
        handler: given.handler,
        description: given.description ?? "",
        memorySize,
        cpu,
        timeout: given.timeout ?? 3,
        instanceConcurrency: given.instanceConcurrency ?? 1,
        environmentVariables: given.environmentVariables ?? {},
        ...(given.zip ? { zip: given.zip } : {}),
        ...(given.image ? { image: given.image } : {}),
      },
      state: "Pending",
      lastUpdateStatus: "InProgress",
      pendingReads: this.options.updateReads,
      versions: new Map(),
      nextVersion: 1,
      aliases: new Map(),
    };
    this.functions.set(name, record);
    return this.functionJson(record);
  }

  getFunction(name: string): Body {
    const record = this.fn(name);
    if (record.lastUpdateStatus === "InProgress") {
      if (record.pendingReads > 0) record.pendingReads -= 1;
      else this.settle(record);
    }
    return this.functionJson(record);
  }

  updateFunction(name: string, body: Body): Body {
    const record = this.fn(name);
    this.refuseWhileUpdating(record, "updated");
    const given = functionSettings(body);
    if (given.runtime === "custom-container" || record.settings.runtime === "custom-container") {
      if ((given.runtime ?? record.settings.runtime) !== record.settings.runtime) throw invalid("runtime can not change to or from custom-container");
    }
    const next = { ...record.settings, ...given };
    checkCpuMemory(next.cpu, next.memorySize);
    record.settings = next;
    record.lastModifiedTime = now();
    record.lastUpdateStatus = "InProgress";
    delete record.lastUpdateStatusReason;
    record.pendingReads = this.options.updateReads;
    return this.functionJson(record);
  }

  deleteFunction(name: string): void {
    const record = this.fn(name);
    if (record.aliases.size > 0 || record.versions.size > 0) {
      throw new FcFault(412, "PreconditionFailed", `function '${name}' still has versions or aliases; delete them first`);
    }
    this.functions.delete(name);
  }

  publishVersion(name: string, body: Body): Body {
    const record = this.fn(name);
    this.refuseWhileUpdating(record, "published");
    const description = optionalString(body, "description") ?? "";
    const revision = revisionOf(record.settings);
    if (record.lastPublished === revision) {
      // The code FC answers here (VersionPublishError) is what tools that deploy to FC check for.
      throw new FcFault(400, "VersionPublishError", `can not publish version for function '${name}', detail: 'No changes were made since last publish'`);
    }
    const version: VersionRecord = { versionId: String(record.nextVersion++), description, createdTime: now(), revision };
    record.versions.set(version.versionId, version);
    record.lastPublished = revision;
    return this.versionJson(version);
  }

  listVersions(name: string, query: Record<string, string | string[]>): Body {
    const record = this.fn(name);
    const direction = single(query, "direction") ?? "BACKWARD";
    if (direction !== "BACKWARD" && direction !== "FORWARD") throw invalid(`direction must be BACKWARD or FORWARD, got ${direction}`);
    const limitText = single(query, "limit") ?? "20";
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) throw invalid(`limit must be from 1 to 100, got ${limitText}`);
    const ordered = [...record.versions.values()].sort((a, b) => Number(a.versionId) - Number(b.versionId));
    if (direction === "BACKWARD") ordered.reverse();
    const token = single(query, "nextToken");
    let start = 0;
    if (token) {
      const from = Buffer.from(token, "base64").toString("utf8");
      start = ordered.findIndex((version) => version.versionId === from);
      if (!/^\d+$/.test(from) || start < 0) throw invalid(`nextToken '${token}' is not valid`);
    }
    const page = ordered.slice(start, start + limit);
    const next = ordered[start + limit];
    return { versions: page.map((version) => this.versionJson(version)), direction, ...(next ? { nextToken: Buffer.from(next.versionId).toString("base64") } : {}) };
  }

  deleteVersion(name: string, versionId: string): void {
    const record = this.fn(name);
    if (!record.versions.has(versionId)) throw notFound("VersionNotFound", `version '${versionId}' of function '${name}' does not exist`);
    for (const alias of record.aliases.values()) {
      if (alias.versionId === versionId || versionId in alias.additionalVersionWeight) {
        // UNVERIFIED code: FC refuses, the exact code is not published.
        throw invalid(`version '${versionId}' of function '${name}' is referenced by alias '${alias.aliasName}' and can not be deleted`);
      }
    }
    record.versions.delete(versionId);
  }

  createAlias(name: string, body: Body): Body {
    const record = this.fn(name);
    const aliasName = requiredString(body, "aliasName", 128);
    if (!NAME.test(aliasName)) throw invalid(`aliasName '${aliasName}' must start with a letter or underscore and hold only letters, digits, '_' and '-'`);
    if (record.aliases.has(aliasName)) throw new FcFault(409, "AliasAlreadyExists", `alias '${aliasName}' of function '${name}' already exists`);
    const versionId = requiredString(body, "versionId", 64);
    const additional = weights(body) ?? {};
    this.checkAliasTargets(record, versionId, additional);
    const time = now();
    const alias: AliasRecord = { aliasName, versionId, additionalVersionWeight: additional, description: optionalString(body, "description") ?? "", createdTime: time, lastModifiedTime: time };
    record.aliases.set(aliasName, alias);
    return { ...alias };
  }

  getAlias(name: string, aliasName: string): Body {
    return { ...this.alias(name, aliasName) };
  }

  listAliases(name: string): Body {
    return { aliases: [...this.fn(name).aliases.values()].map((alias) => ({ ...alias })) };
  }

  updateAlias(name: string, aliasName: string, body: Body): Body {
    const record = this.fn(name);
    const alias = this.alias(name, aliasName);
    const versionId = optionalString(body, "versionId", 64) ?? alias.versionId;
    const additional = weights(body) ?? alias.additionalVersionWeight;
    const description = optionalString(body, "description") ?? alias.description;
    this.checkAliasTargets(record, versionId, additional);
    if (versionId === alias.versionId && description === alias.description && sameWeights(additional, alias.additionalVersionWeight)) {
      // UNVERIFIED code; the message is the one FC gives (and tools match on).
      throw invalid("Can not update alias without any change");
    }
    Object.assign(alias, { versionId, additionalVersionWeight: { ...additional }, description, lastModifiedTime: now() });
    return { ...alias };
  }

  deleteAlias(name: string, aliasName: string): void {
    this.alias(name, aliasName);
    this.fn(name).aliases.delete(aliasName);
  }

  private fn(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) throw notFound("FunctionNotFound", `function '${name}' does not exist`);
    return record;
  }

  private alias(name: string, aliasName: string): AliasRecord {
    const alias = this.fn(name).aliases.get(aliasName);
    if (!alias) throw notFound("AliasNotFound", `alias '${aliasName}' of function '${name}' does not exist`);
    return alias;
  }

  private checkAliasTargets(record: FunctionRecord, versionId: string, additional: Record<string, number>): void {
    if (!record.versions.has(versionId)) throw notFound("VersionNotFound", `version '${versionId}' of function '${record.functionName}' does not exist`);
    const extra = Object.keys(additional);
    if (extra.length > this.options.maxAdditionalVersions) throw invalid(`additionalVersionWeight takes at most ${this.options.maxAdditionalVersions} version(s)`);
    for (const version of extra) {
      if (version === versionId) throw invalid(`additionalVersionWeight can not name the alias's own version '${versionId}'`);
      if (!record.versions.has(version)) throw notFound("VersionNotFound", `version '${version}' of function '${record.functionName}' does not exist`);
    }
  }

  /** UNVERIFIED: FC is assumed to refuse a publish or another update while one is being applied. */
  private refuseWhileUpdating(record: FunctionRecord, what: string): void {
    if (record.lastUpdateStatus === "InProgress") {
      throw new FcFault(412, "PreconditionFailed", `function '${record.functionName}' can not be ${what} while its last update is InProgress`);
    }
  }

  private settle(record: FunctionRecord): void {
    if (record.failWith !== undefined) {
      record.lastUpdateStatus = "Failed";
      record.lastUpdateStatusReason = record.failWith;
      if (record.state === "Pending") record.state = "Failed";
      delete record.failWith;
      return;
    }
    record.lastUpdateStatus = "Successful";
    record.state = "Active";
  }

  private functionJson(record: FunctionRecord): Body {
    const { settings } = record;
    return {
      functionName: record.functionName,
      functionId: record.functionId,
      functionArn: `acs:fc:${this.options.region}:${this.options.accountId}:functions/${record.functionName}`,
      runtime: settings.runtime,
      handler: settings.handler,
      description: settings.description,
      memorySize: settings.memorySize,
      cpu: settings.cpu,
      diskSize: 512,
      timeout: settings.timeout,
      instanceConcurrency: settings.instanceConcurrency,
      environmentVariables: { ...settings.environmentVariables },
      ...(settings.image ? { customContainerConfig: { image: settings.image } } : {}),
      ...(settings.zip ? { codeSize: settings.zip.length, codeChecksum: BigInt(`0x${createHash("sha256").update(settings.zip).digest("hex").slice(0, 16)}`).toString() } : {}),
      createdTime: record.createdTime,
      lastModifiedTime: record.lastModifiedTime,
      state: record.state,
      lastUpdateStatus: record.lastUpdateStatus,
      ...(record.lastUpdateStatusReason ? { lastUpdateStatusReason: record.lastUpdateStatusReason } : {}),
    };
  }

  private versionJson(version: VersionRecord): Body {
    return { versionId: version.versionId, description: version.description, createdTime: version.createdTime, lastModifiedTime: version.createdTime };
  }
}

function single(query: Record<string, string | string[]>, key: string): string | undefined {
  const value = query[key];
  return Array.isArray(value) ? value[0] : value;
}

function sameWeights(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => a[key] === b[key]);
}
