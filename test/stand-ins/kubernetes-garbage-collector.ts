// The controller manager's garbage collector, for Secrets owned by Pods: when a pod is gone, the
// secrets whose ownerReferences name its uid are deleted (background propagation); a secret written
// with owner references that all point at pods that do not exist (or exist with another uid) is
// deleted too, as the real collector does with dangling owners. Other owner kinds are not modelled
// and keep their dependents.
import type { ResourceStore } from "./kubernetes-store";
import type { OwnerReference, Pod, Secret } from "./kubernetes-types";

export class GarbageCollector {
  /** Owner pod uid → "namespace/name" of the secrets it owns. */
  private readonly owned = new Map<string, Set<string>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly pods: ResourceStore<Pod>,
    private readonly secrets: ResourceStore<Secret>,
    private readonly delayMs: () => number,
  ) {
    secrets.subscribe((event) => {
      const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
      for (const reference of podOwners(event.previous)) this.owned.get(reference.uid)?.delete(key);
      if (event.type === "DELETED") {
        for (const reference of podOwners(event.object)) this.owned.get(reference.uid)?.delete(key);
        return;
      }
      const owners = podOwners(event.object);
      for (const reference of owners) {
        let set = this.owned.get(reference.uid);
        if (!set) this.owned.set(reference.uid, (set = new Set()));
        set.add(key);
      }
      if (owners.length > 0) this.collectLater(key);
    });
    pods.subscribe((event) => {
      if (event.type !== "DELETED") return;
      const uid = event.object.metadata.uid ?? "";
      for (const key of this.owned.get(uid) ?? []) this.collectLater(key);
      this.owned.delete(uid);
    });
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private collectLater(key: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.collect(key);
    }, this.delayMs());
    this.timers.add(timer);
  }

  private collect(key: string): void {
    const [namespace, name] = key.split("/") as [string, string];
    const secret = this.secrets.get(namespace, name);
    if (!secret) return;
    const owners = secret.metadata.ownerReferences ?? [];
    const dangling = (reference: OwnerReference) => isPodOwner(reference) && this.pods.get(namespace, reference.name)?.metadata.uid !== reference.uid;
    if (owners.length > 0 && owners.every(dangling)) this.secrets.remove(namespace, name);
  }
}

function isPodOwner(reference: OwnerReference): boolean {
  return reference.kind === "Pod" && reference.apiVersion === "v1";
}

function podOwners(secret: Secret | undefined): OwnerReference[] {
  return (secret?.metadata.ownerReferences ?? []).filter(isPodOwner);
}
