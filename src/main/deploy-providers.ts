// The deploy provider for a release target: the local router host, or FC / SAE clients with the
// configured credentials (else the default chain: environment, RRSA in a pod, profile, RAM role).
import type { GustConfig } from "../config";
import type { ReleaseTarget } from "../pipeline/model";
import { alicloudCredentialsFrom } from "../release/alicloud-client";
import type { DeployProvider } from "../release/deploy-provider";
import { FcProvider } from "../release/fc/fc-provider";
import type { LocalTargetHost } from "../release/local";
import { SaeProvider } from "../release/sae/sae-provider";

type ProviderSettings = Pick<GustConfig, "alicloudAccessKeyId" | "alicloudAccessKeySecret" | "alicloudProtocol" | "fcEndpoint" | "saeEndpoint">;

export function deployProviders(settings: ProviderSettings, localHost: LocalTargetHost): (target: ReleaseTarget) => DeployProvider {
  const credentials = alicloudCredentialsFrom(settings);
  const common = { protocol: settings.alicloudProtocol, ...(credentials ? { credentials } : {}) };
  return (target) => {
    switch (target.type) {
      case "local":
        return localHost.provider(target);
      case "fc":
        return new FcProvider({ target, ...common, ...(settings.fcEndpoint ? { endpoint: settings.fcEndpoint.replaceAll("{region}", target.region) } : {}) });
      case "sae":
        return new SaeProvider({
          target,
          ...common,
          // A call returns (retryably) after a minute of an SAE change order still running, so the
          // release hears commands and cancels meanwhile; the next call carries on where SAE is.
          waitTimeoutMs: 60_000,
          ...(settings.saeEndpoint ? { endpoint: settings.saeEndpoint } : {}),
          ...(target.abGateway ? { greyTagRoutes: target.abGateway } : {}),
        });
    }
  };
}
