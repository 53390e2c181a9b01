// The state behind the SAE stand-in: applications with their configuration, instances and
// deployment history (app versions), and change orders whose batches (pipelines) advance one step
// per API request the stand-in serves (a logical clock: tests never depend on wall time). A batch
// replaces its share of instances when it completes; a manual batch waits for ConfirmPipelineBatch
// (order status 8); AbortAndRollbackChangeOrder terminates the order (status 6) and starts a
// rollback order that puts the moved instances back.
import { randomUUID } from "node:crypto";

/** What an instance runs and a configuration deploys. */
export interface Deployed {
  imageUrl?: string;
  packageUrl?: string;
  packageVersion?: string;
  enableGreyTagRoute: boolean;
}

export interface AppVersionEntry {
  id: string;
  /** Milliseconds since the epoch, as SAE gives it (a string). */
  createTime: string;
  deployed: Deployed;
}

export interface StandInInstance {
  instanceId: string;
  runs: Deployed;
  createTimeStamp: number;
}

export interface StandInApp {
  appId: string;
  appName: string;
  namespaceId: string;
  regionId: string;
  groupId: string;
  packageType: string;
  replicas: number;
  config: Deployed;
  instances: StandInInstance[];
  /** Newest first, as ListAppVersions answers. */
  versions: AppVersionEntry[];
}

export interface Pipeline {
  pipelineId: string;
  pipelineName: string;
  instances: number;
  /** 0 preparing, 1 running, 2 done, 3 failed, 6 terminated, 8 waiting for confirmation. */
  status: number;
  manual: boolean;
  stepsLeft: number;
  startTime?: number;
  updateTime?: number;
}

export interface ChangeOrder {
  changeOrderId: string;
  appId: string;
  coTypeCode: "CoDeploy" | "CoRollback";
  status: number;
  subStatus: number;
  createTime: string;
  finishTime?: string;
  description: string;
  errorMessage?: string;
  target: Deployed;
  pipelines: Pipeline[];
  /** Index of the pipeline running or waiting. */
  current: number;
  /** The configuration before the order, which an abort-and-rollback restores. */
  before: Deployed;
  batchType: "Auto" | "Manual";
}

export interface Strategy {
  gray?: number;
  batch: number;
  manual: boolean;
}

/** A failure the next change order runs into (scripted by a test). */
export interface ScriptedBatchFailure {
  message: string;
  /** true: the batch fails and the order stays open (Status 1, SubStatus 1) until rolled back. */
  stuck?: boolean;
}

export const ACTIVE_STATUSES = new Set([0, 1, 8, 9, 11, 12]);

let clock = Date.UTC(2025, 0, 1);
/** Times that only move forward. */
export function tickTime(): number {
  clock = Math.max(clock + 1, Date.now());
  return clock;
}

/** SAE's form, to the second: orders made within one second tie, and only the list's order tells them apart. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

export function sameRelease(a: Deployed, b: Deployed): boolean {
  return a.imageUrl === b.imageUrl && a.packageUrl === b.packageUrl && a.packageVersion === b.packageVersion;
}

/** Splits `total` instances into `parts` batches as evenly as SAE does (earlier batches larger). */
export function splitInstances(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}

export class SaeModel {
  readonly apps = new Map<string, StandInApp>();
  readonly orders: ChangeOrder[] = [];
  failNextOrder?: ScriptedBatchFailure;

  constructor(private readonly stepsPerBatch: number) {}

  activeOrder(appId: string): ChangeOrder | undefined {
    return this.orders.find((order) => order.appId === appId && ACTIVE_STATUSES.has(order.status));
  }

  /** Starts a change order moving the application to `target` in the batches `strategy` gives. */
  startOrder(app: StandInApp, target: Deployed, strategy: Strategy | undefined, coTypeCode: ChangeOrder["coTypeCode"], description: string, instances = app.replicas): ChangeOrder {
    const sizes = strategy ? [...(strategy.gray ? [strategy.gray] : []), ...splitInstances(instances - (strategy.gray ?? 0), strategy.batch)] : [instances];
    const pipelines = sizes.map<Pipeline>((size, index) => ({
      pipelineId: randomUUID(),
      pipelineName: strategy?.gray && index === 0 ? "Gray Batch" : `Batch ${strategy?.gray ? index : index + 1} Change`,
      instances: size,
      status: 0,
      manual: index > 0 && (strategy?.manual ?? false),
      stepsLeft: this.stepsPerBatch,
    }));
    const order: ChangeOrder = {
      changeOrderId: randomUUID(),
      appId: app.appId,
      coTypeCode,
      status: 0,
      subStatus: 0,
      createTime: formatTime(tickTime()),
      description,
      target,
      pipelines,
      current: 0,
      before: app.config,
      batchType: strategy?.manual ? "Manual" : "Auto",
    };
    app.config = target;
    this.orders.unshift(order);
    return order;
  }

  /** One step of the logical clock for every active change order. */
  advance(): void {
    for (const order of this.orders) if (order.status === 0 || order.status === 1) this.step(order);
  }

  private step(order: ChangeOrder): void {
    const pipeline = order.pipelines[order.current];
    const now = tickTime();
    if (!pipeline) return this.finish(order, 2, now);
    if (order.status === 0 || pipeline.status === 0) {
      order.status = 1;
      pipeline.status = 1;
      pipeline.startTime = now;
      return;
    }
    if (order.subStatus === 1 || pipeline.status !== 1) return;
    pipeline.stepsLeft -= 1;
    if (pipeline.stepsLeft > 0) return;
    const failure = this.failNextOrder;
    if (failure) {
      this.failNextOrder = undefined;
      pipeline.status = 3;
      order.errorMessage = failure.message;
      if (failure.stuck) order.subStatus = 1;
      else this.finish(order, 3, now);
      return;
    }
    this.replace(order, pipeline.instances);
    pipeline.status = 2;
    pipeline.updateTime = now;
    order.current += 1;
    const next = order.pipelines[order.current];
    if (!next) return this.finish(order, 2, now);
    if (next.manual) {
      next.status = 8;
      order.status = 8;
    } else {
      next.status = 1;
      next.startTime = now;
    }
  }

  private finish(order: ChangeOrder, status: number, now: number): void {
    order.status = status;
    order.finishTime = formatTime(now);
  }

  /** Puts `count` instances that run something else on the order's target. */
  private replace(order: ChangeOrder, count: number): void {
    const app = this.apps.get(order.appId);
    if (!app) return;
    let left = count;
    for (const instance of app.instances) {
      if (left === 0) break;
      if (sameRelease(instance.runs, order.target)) continue;
      instance.runs = order.target;
      instance.instanceId = `${app.appName}-${randomUUID().slice(0, 8)}`;
      instance.createTimeStamp = tickTime();
      left -= 1;
    }
  }

  confirm(pipelineId: string, confirm: boolean): ChangeOrder | undefined {
    for (const order of this.orders) {
      const pipeline = order.pipelines.find((candidate) => candidate.pipelineId === pipelineId);
      if (!pipeline) continue;
      if (pipeline.status !== 8 || order.status !== 8) return undefined;
      if (!confirm) {
        this.finish(order, 6, tickTime());
        pipeline.status = 6;
        return order;
      }
      pipeline.status = 1;
      pipeline.startTime = tickTime();
      order.status = 1;
      return order;
    }
    return undefined;
  }

  /** Terminates an active order and starts the order that puts its instances back. */
  abortAndRollback(order: ChangeOrder): ChangeOrder {
    const app = this.apps.get(order.appId)!;
    this.finish(order, 6, tickTime());
    for (const pipeline of order.pipelines) if (pipeline.status !== 2 && pipeline.status !== 3) pipeline.status = 6;
    const moved = app.instances.filter((instance) => !sameRelease(instance.runs, order.before)).length;
    return this.startOrder(app, order.before, undefined, "CoRollback", `Rollback of ${order.changeOrderId}`, moved);
  }
}
