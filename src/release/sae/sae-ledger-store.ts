// The ledger of Gust-published versions (see sae-versions.ts) read from and written to its ConfigMap
// in the application's namespace. One release at a time per target, so read-modify-write is enough.
import type { SaeApi } from "./sae-api";
import { ledgerName, ledgerWith, ledgerWithout, readLedger, type LedgerRecord } from "./sae-versions";

export class SaeLedgerStore {
  constructor(
    private readonly api: SaeApi,
    private readonly appId: string,
  ) {}

  private async find(namespaceId: string): Promise<{ configMapId?: number; data: Record<string, unknown> }> {
    const name = ledgerName(this.appId);
    const found = (await this.api.configMaps(namespaceId)).find((map) => map.name === name);
    return found ? { configMapId: found.configMapId, data: found.data } : { data: {} };
  }

  async records(namespaceId: string): Promise<LedgerRecord[]> {
    return readLedger((await this.find(namespaceId)).data);
  }

  /** Adds a record unless its version is there; gives the record the ledger holds. */
  async add(namespaceId: string, record: Omit<LedgerRecord, "seq">): Promise<{ record: LedgerRecord; created: boolean }> {
    const ledger = await this.find(namespaceId);
    const existing = readLedger(ledger.data).find((entry) => entry.version === record.version);
    if (existing) return { record: existing, created: false };
    const next = ledgerWith(ledger.data, record);
    await this.write(namespaceId, ledger.configMapId, next.data);
    return { record: next.record, created: true };
  }

  /** Forgets a version; a version that is not there is already forgotten. */
  async remove(namespaceId: string, version: string): Promise<void> {
    const ledger = await this.find(namespaceId);
    if (ledger.configMapId === undefined || !readLedger(ledger.data).some((entry) => entry.version === version)) return;
    await this.write(namespaceId, ledger.configMapId, ledgerWithout(ledger.data, version));
  }

  private async write(namespaceId: string, configMapId: number | undefined, data: Record<string, string>): Promise<void> {
    const description = `Versions Gust published for SAE application ${this.appId} (managed by Gust)`;
    if (configMapId === undefined) await this.api.createConfigMap(namespaceId, ledgerName(this.appId), data, description);
    else await this.api.updateConfigMap(configMapId, data, description);
  }
}
