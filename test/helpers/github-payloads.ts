// Real GitHub webhook payloads (@octokit/webhooks-examples) adjusted to a test repository, and
// deliveries signed the way GitHub signs them.
import { createRequire } from "node:module";
import { signGithubBody } from "../../src/http";

const require = createRequire(import.meta.url);
const examples = require("@octokit/webhooks-examples") as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

/** A push of `sha` to `branch` of OWNER/NAME `fullName`, whose clone URL is `cloneUrl`. */
export function githubPushPayload(options: { fullName: string; sha: string; branch?: string; cloneUrl: string; before?: string }): string {
  const example = structuredClone(examples.find((e) => e.name === "push")!.examples[0]!) as Record<string, any>;
  const [owner, name] = options.fullName.split("/") as [string, string];
  example.ref = `refs/heads/${options.branch ?? "main"}`;
  example.after = options.sha;
  example.before = options.before ?? "0".repeat(40);
  example.created = options.before === undefined;
  example.deleted = false;
  example.head_commit = { ...(example.head_commit ?? {}), id: options.sha };
  example.repository = {
    ...example.repository,
    full_name: options.fullName,
    name,
    owner: { ...example.repository.owner, login: owner, name: owner },
    default_branch: "main",
    clone_url: options.cloneUrl,
  };
  return JSON.stringify(example);
}

export function deliverGithub(baseUrl: string, options: { body: string; event: string; delivery: string; secret: string }): Promise<Response> {
  return fetch(`${baseUrl}/hooks/github`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": options.event,
      "x-github-delivery": options.delivery,
      "x-hub-signature-256": signGithubBody(options.body, options.secret),
    },
    body: options.body,
  });
}
