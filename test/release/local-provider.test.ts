import { describeProviderContract } from "../contract/deploy-provider-contract";
import { localProviderHarness } from "./fixtures/local-harness";

describeProviderContract("local", localProviderHarness());
