// The executor contract on a real cluster: the same suite the local executor passes.
import { describe } from "vitest";
import { describeExecutorContract } from "../../contract/executor-contract";
import { cluster, createClusterHarness, noteSkippedWithoutCluster } from "./cluster-harness";

noteSkippedWithoutCluster("the Kubernetes executor contract suite");
describe.skipIf(!cluster.kubeconfig)("on the real cluster", () => {
  describeExecutorContract("kubernetes", () => createClusterHarness());
});
