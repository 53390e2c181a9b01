// Webhook authentication in constant time. Every configured secret is tried, without stopping at
// the first match, so the time taken says nothing about which secret (if any) matched.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const GITHUB_SIGNATURE = /^sha256=([0-9a-f]{64})$/i;

/** `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>` against each secret. */
export function verifyGithubSignature(body: Uint8Array, header: string, secrets: readonly string[]): boolean {
  const match = GITHUB_SIGNATURE.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!, "hex");
  let matched = false;
  for (const secret of secrets) {
    if (secret === "") continue; // an empty key would accept anyone's HMAC
    const expected = createHmac("sha256", secret).update(body).digest();
    matched = timingSafeEqual(given, expected) || matched;
  }
  return matched;
}

/**
 * `X-Gitlab-Token` is the secret itself. Both sides are hashed first so the comparison is of equal
 * lengths and the token's length does not leak through an early length check.
 */
export function verifyGitlabToken(token: string, secrets: readonly string[]): boolean {
  const given = sha256(token);
  let matched = false;
  for (const secret of secrets) {
    if (secret === "") continue;
    matched = timingSafeEqual(given, sha256(secret)) || matched;
  }
  return matched;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** What GitHub sends, for tests and benchmarks. */
export function signGithubBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
