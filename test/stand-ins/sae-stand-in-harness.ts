// A fresh SAE stand-in with one application and SaeProviders pointed at it, for the provider's
// contract run and its SAE-specific tests.
import { createHash, randomUUID } from "node:crypto";
import type { ReleaseArtifact } from "../../src/release/deploy-provider";
import { SaeProvider, type SaeProviderOptions } from "../../src/release/sae/sae-provider";
import type { ProviderHarness, ProviderTarget } from "../contract/deploy-provider-contract";
import { startSaeStandIn, type SaeStandIn, type SaeStandInAppSeed } from "./sae-stand-in";

export const SAE_KEYS = { LTAIsaeGust: "sae-secret-value" };
export const SEED_IMAGE = "registry.cn-hangzhou.aliyuncs.com/acme/shop:seed";

export interface SaeFixture {
  standIn: SaeStandIn;
  appId: string;
  provider(overrides?: Partial<SaeProviderOptions>): SaeProvider;
  /** Image artifact n: same n, same image and digest. */
  image(n: number): ReleaseArtifact;
  close(): Promise<void>;
}

export async function saeFixture(options: { replicas?: number; app?: Partial<SaeStandInAppSeed>; stepsPerBatch?: number; provider?: Partial<SaeProviderOptions> } = {}): Promise<SaeFixture> {
  const appId = randomUUID();
  const standIn = await startSaeStandIn({
    credentials: SAE_KEYS,
    apps: [{ appId, replicas: options.replicas ?? 4, imageUrl: SEED_IMAGE, ...options.app }],
    ...(options.stepsPerBatch ? { stepsPerBatch: options.stepsPerBatch } : {}),
  });
  const providers: SaeProvider[] = [];
  return {
    standIn,
    appId,
    provider(overrides = {}) {
      const provider = new SaeProvider({
        target: { type: "sae", region: "cn-hangzhou", appId },
        endpoint: standIn.endpoint,
        protocol: "http",
        credentials: { accessKeyId: "LTAIsaeGust", accessKeySecret: SAE_KEYS.LTAIsaeGust },
        pollIntervalMs: 1,
        ...options.provider,
        ...overrides,
      });
      providers.push(provider);
      return provider;
    },
    image: (n) => ({
      image: `registry.cn-hangzhou.aliyuncs.com/acme/shop:build-${n}`,
      digest: createHash("sha256").update(`build-${n}`).digest("hex"),
      description: `gust acme/shop #${n}`,
    }),
    async close() {
      for (const provider of providers) await provider.close();
      await standIn.close();
    },
  };
}

/** The contract harness: each target a fresh stand-in and application (4 instances). */
export function saeHarness(provider: Partial<SaeProviderOptions> = {}): ProviderHarness {
  return {
    async target(): Promise<ProviderTarget> {
      const fixture = await saeFixture({ provider });
      return {
        provider: fixture.provider(),
        artifact: async (n) => fixture.image(n),
        throttleNext: () => fixture.standIn.throttleNext(),
        reopen: async () => fixture.provider(),
        teardown: () => fixture.close(),
      };
    },
  };
}
