// The stand-in's "etcd + watch cache" for one resource: objects by namespace and name, one
// resourceVersion counter shared by every resource (as etcd's revision is), a bounded history of
// change events that watches resume from (older → 410 Expired), and the fan-out to open watches:
// each event is serialized once per type and goes only to the watches of its namespace, so one
// change costs O(watches in that namespace), never O(pods).
import type { Matcher } from "./kubernetes-selectors";
import type { KubeObject } from "./kubernetes-types";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent<T extends KubeObject = KubeObject> {
  type: EventType;
  object: T;
  /** The object before this change (MODIFIED), for watches whose selector it leaves or enters. */
  previous?: T;
  rv: number;
}

/** An open watch. `send` gets the event type as seen through the watch's selector. */
export interface Watcher {
  namespace: string | undefined;
  matches: Matcher;
  send(type: EventType, event: StoredEvent): void;
}

export class ResourceVersions {
  current = 1;

  next(): number {
    this.current += 1;
    return this.current;
  }
}

export class ResourceStore<T extends KubeObject> {
  private readonly objects = new Map<string, Map<string, T>>();
  private readonly history: Array<StoredEvent<T> | undefined>;
  private historyStart = 0;
  private historyLength = 0;
  /** Watches can resume from this resourceVersion or later; the history before it is gone. */
  oldestResumable = 0;
  private readonly watchers = new Map<string, Set<Watcher>>();
  private readonly listeners: Array<(event: StoredEvent<T>) => void> = [];

  constructor(
    readonly plural: string,
    readonly kind: string,
    private readonly versions: ResourceVersions,
    historySize: number,
  ) {
    this.history = new Array<StoredEvent<T> | undefined>(Math.max(1, historySize));
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(namespace)?.get(name);
  }

  /** Objects of one namespace (all when undefined), sorted by namespace and name as etcd keys are. */
  list(namespace?: string): T[] {
    const spaces = namespace === undefined ? [...this.objects.keys()].sort() : [namespace];
    return spaces.flatMap((space) => [...(this.objects.get(space)?.values() ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)));
  }

  count(): number {
    let total = 0;
    for (const space of this.objects.values()) total += space.size;
    return total;
  }

  /** Stores a new object (the caller has checked that the name is free). */
  insert(object: T): T {
    object.metadata.resourceVersion = String(this.versions.next());
    const namespace = object.metadata.namespace ?? "";
    let space = this.objects.get(namespace);
    if (!space) this.objects.set(namespace, (space = new Map()));
    space.set(object.metadata.name, object);
    this.record({ type: "ADDED", object, rv: Number(object.metadata.resourceVersion) });
    return object;
  }

  /** Applies `mutate` to a copy of the object and stores the copy; undefined when it is gone. */
  modify(namespace: string, name: string, mutate: (draft: T) => void): T | undefined {
    const previous = this.get(namespace, name);
    if (!previous) return undefined;
    const draft = cloneJson(previous);
    mutate(draft);
    return this.replace(draft, previous);
  }

  replace(object: T, previous: T): T {
    object.metadata.resourceVersion = String(this.versions.next());
    this.objects.get(object.metadata.namespace ?? "")!.set(object.metadata.name, object);
    this.record({ type: "MODIFIED", object, previous, rv: Number(object.metadata.resourceVersion) });
    return object;
  }

  remove(namespace: string, name: string): T | undefined {
    const existing = this.get(namespace, name);
    if (!existing) return undefined;
    this.objects.get(namespace)!.delete(name);
    const object = { ...existing, metadata: { ...existing.metadata, resourceVersion: String(this.versions.next()) } };
    this.record({ type: "DELETED", object, rv: Number(object.metadata.resourceVersion) });
    return object;
  }

  /** Called synchronously for every change (the stand-in's controllers: garbage collector, kubelet). */
  subscribe(listener: (event: StoredEvent<T>) => void): void {
    this.listeners.push(listener);
  }

  /** Events after `resourceVersion`, or "expired" when some of them are no longer kept. */
  eventsSince(resourceVersion: number): Array<StoredEvent<T>> | "expired" {
    if (resourceVersion < this.oldestResumable) return "expired";
    let low = 0;
    let high = this.historyLength;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.at(middle).rv <= resourceVersion) low = middle + 1;
      else high = middle;
    }
    const events: Array<StoredEvent<T>> = [];
    for (let index = low; index < this.historyLength; index += 1) events.push(this.at(index));
    return events;
  }

  addWatcher(watcher: Watcher): void {
    const key = watcher.namespace ?? "";
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(watcher);
  }

  removeWatcher(watcher: Watcher): void {
    this.watchers.get(watcher.namespace ?? "")?.delete(watcher);
  }

  /** Forgets the history: resuming a watch from any earlier resourceVersion gets 410. */
  compact(): void {
    this.history.fill(undefined);
    this.historyStart = 0;
    this.historyLength = 0;
    this.oldestResumable = this.versions.current;
  }

  private at(index: number): StoredEvent<T> {
    return this.history[(this.historyStart + index) % this.history.length]!;
  }

  private record(event: StoredEvent<T>): void {
    const capacity = this.history.length;
    if (this.historyLength === capacity) {
      this.oldestResumable = this.at(0).rv;
      this.historyStart = (this.historyStart + 1) % capacity;
      this.historyLength -= 1;
    }
    this.history[(this.historyStart + this.historyLength) % capacity] = event;
    this.historyLength += 1;
    const namespace = event.object.metadata.namespace ?? "";
    for (const key of namespace === "" ? [""] : [namespace, ""]) {
      for (const watcher of this.watchers.get(key) ?? []) deliver(watcher, event as StoredEvent);
    }
    for (const listener of this.listeners) listener(event);
  }
}

/** A deep copy of JSON data (several times faster than structuredClone for it). */
export function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = cloneJson((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** Sends `event` as the watcher's selector sees it: an object entering the selection is ADDED, one leaving it DELETED. */
export function deliver(watcher: Watcher, event: StoredEvent): void {
  const now = watcher.matches(event.object);
  if (event.type !== "MODIFIED" || !event.previous) {
    if (now) watcher.send(event.type, event);
    return;
  }
  const before = watcher.matches(event.previous);
  if (now && before) watcher.send("MODIFIED", event);
  else if (now) watcher.send("ADDED", event);
  else if (before) watcher.send("DELETED", event);
}
