export { LocalTargetHost, type LocalTargetHostOptions, type RestoredPort } from "./local-target-host";
export type { LocalLogEntry } from "./local-port";
export type { FaultInjector, ProviderCall } from "./local-provider";
export type { LocalTarget } from "./launch-settings";
export { PIN_HEADER } from "./traffic-choice";
