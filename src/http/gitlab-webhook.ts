// POST /hooks/gitlab[/:repositoryId]. GitLab sends the secret itself in X-Gitlab-Token, so the
// token is checked before the body is read: an unauthenticated sender costs no body reading.
import type { Context } from "hono";
import type { AppEnv } from "./app-env";
import { HttpError } from "./http-error";
import { checkDeclaredLength, readRawBody } from "./raw-body";
import { verifyGitlabToken } from "./signatures";
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
import { gitlabEventVerdict, gitlabPayloadVerdict, NEEDS_PAYLOAD } from "./webhook-events";

export function gitlabWebhook(deps: WebhookDeps) {
  return (c: Context<AppEnv>) =>
    observed(c, deps, "gitlab", async (log) => {
      checkDeclaredLength(c.req.raw, deps.bodyLimit);
      const repositoryId = repositoryIdOf(c);
      if (repositoryId !== undefined) log.repositoryId = repositoryId;
      const token = c.req.header("x-gitlab-token");
      if (!token) throw unauthorized("missing header X-Gitlab-Token");
      const secrets = await deps.intake.secretsFor("gitlab", repositoryId);
      // No secret at all is a setup mistake (or an unknown repository): say so in the request line.
      if (secrets.length === 0) log.reason = "no webhook secrets configured";
      if (!verifyGitlabToken(token, secrets)) throw unauthorized("the token does not match");

      const event = (log.event = requireHeader(c, "X-Gitlab-Event"));
      const deliveryId = (log.delivery = gitlabDeliveryId(c));
      const early = gitlabEventVerdict(event);
      if (early !== NEEDS_PAYLOAD && early.kind !== "accept") return answerVerdict(c, early);

      const payload = parseJsonObject(await readRawBody(c.req.raw, deps.bodyLimit));
      const verdict = early === NEEDS_PAYLOAD ? gitlabPayloadVerdict(event, payload) : early;
      if (verdict.kind !== "accept") return answerVerdict(c, verdict);
      return acceptDelivery(c, deps.intake, {
        forge: "gitlab",
        deliveryId,
        event,
        payload,
        ...(repositoryId === undefined ? {} : { repositoryId }),
      });
    });
}

/**
 * Idempotency-Key first: GitLab keeps it across retries of a delivery (17.4 and later), while
 * X-Gitlab-Event-UUID is made anew when a delivery is resent. Older GitLab sends only the latter.
 */
function gitlabDeliveryId(c: Context<AppEnv>): string {
  const key = c.req.header("idempotency-key")?.trim();
  if (key) return deliveryIdFrom(key, "Idempotency-Key");
  const uuid = c.req.header("x-gitlab-event-uuid")?.trim();
  if (uuid) return deliveryIdFrom(uuid, "X-Gitlab-Event-UUID");
  throw new HttpError(400, "missing_header", "missing header Idempotency-Key or X-Gitlab-Event-UUID");
}
