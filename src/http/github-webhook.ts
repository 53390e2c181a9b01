// POST /hooks/github[/:repositoryId]. Order matters: size, signature over the raw bytes, then the
// headers, then parsing; nothing reaches the intake unless the signature matched.
import type { Context } from "hono";
import type { AppEnv } from "./app-env";
import { checkDeclaredLength, readRawBody } from "./raw-body";
import { verifyGithubSignature } from "./signatures";
import {
  acceptDelivery,
  answerVerdict,
  deliveryIdFrom,
  observed,
  parseJsonObject,
  repositoryIdOf,
  requireHeader,
  unauthorized,
  type WebhookDeps,
} from "./webhook-common";
import { githubEventVerdict, githubPayloadVerdict, NEEDS_PAYLOAD } from "./webhook-events";

export function githubWebhook(deps: WebhookDeps) {
  return (c: Context<AppEnv>) =>
    observed(c, deps, "github", async (log) => {
      checkDeclaredLength(c.req.raw, deps.bodyLimit);
      const repositoryId = repositoryIdOf(c);
      if (repositoryId !== undefined) log.repositoryId = repositoryId;
      const signature = c.req.header("x-hub-signature-256");
      if (!signature) throw unauthorized("missing header X-Hub-Signature-256");

      // The secrets may come from the database: fetch them while the body arrives.
      const [body, secrets] = await Promise.all([readRawBody(c.req.raw, deps.bodyLimit), deps.intake.secretsFor("github", repositoryId)]);
      // No secret at all is a setup mistake (or an unknown repository): say so in the request line.
      if (secrets.length === 0) log.reason = "no webhook secrets configured";
      if (!verifyGithubSignature(body, signature, secrets)) throw unauthorized("the signature does not match");

      const event = (log.event = requireHeader(c, "X-GitHub-Event"));
      const deliveryId = (log.delivery = deliveryIdFrom(requireHeader(c, "X-GitHub-Delivery"), "X-GitHub-Delivery"));
      const early = githubEventVerdict(event);
      if (early !== NEEDS_PAYLOAD && early.kind !== "accept") return answerVerdict(c, early);

      const payload = parseGithubPayload(body, c.req.header("content-type"));
      const verdict = early === NEEDS_PAYLOAD ? githubPayloadVerdict(event, payload) : early;
      if (verdict.kind !== "accept") return answerVerdict(c, verdict);
      return acceptDelivery(c, deps.intake, {
        forge: "github",
        deliveryId,
        event,
        payload,
        ...(repositoryId === undefined ? {} : { repositoryId }),
      });
    });
}

/** A webhook set to `application/x-www-form-urlencoded` sends the JSON as the `payload` field. */
function parseGithubPayload(body: Uint8Array, contentType: string | undefined) {
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const field = new URLSearchParams(Buffer.from(body).toString("utf8")).get("payload");
    return parseJsonObject(field ?? "");
  }
  return parseJsonObject(body);
}
