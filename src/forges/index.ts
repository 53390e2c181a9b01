// Public surface of the forges: the interface and its types. Implementations are imported from
// their folders (./github, ./gitlab, ./local) by main/ only.
export * from "./forge";
export { plainLine, jobTitle, pipelineTitle } from "./report-text";
