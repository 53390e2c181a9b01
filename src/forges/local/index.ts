// Public surface of the local forge.
export { LocalForge, type LocalForgeOptions, type LocalReport } from "./local-forge";
export { normalizeLocalEvent, type LocalRefUpdate } from "./normalize-event";
