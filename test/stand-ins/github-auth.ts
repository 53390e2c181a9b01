// How the GitHub stand-in checks credentials: personal access tokens with fine-grained permissions,
// GitHub App JWTs (RS256, verified against the App's public key with node:crypto, with GitHub's
// claims rules) and the installation tokens minted from them.
import { createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";

export type Permission = "contents" | "checks" | "statuses" | "pull_requests" | "metadata";
export type Access = "read" | "write";
export type Permissions = Partial<Record<Permission, Access>>;

export interface AppConfig {
  appId: string;
  /** PEM, either key of the pair: the public key is derived. */
  key: string;
  permissions: Permissions;
  /** OWNER/NAME → installation id. */
  installations: Record<string, number>;
  /** How long minted installation tokens live. Default one hour, as on GitHub. */
  tokenLifetimeMs?: number;
}

export type Caller =
  | { kind: "token"; token: string; permissions: Permissions; repos?: undefined }
  | { kind: "installation"; token: string; installationId: number; permissions: Permissions; repos: Set<string>; expiresAt: number }
  | { kind: "app"; appId: string };

export type AuthResult = { ok: true; caller: Caller } | { ok: false; status: number; message: string };

export class GithubCredentials {
  private readonly tokens = new Map<string, Permissions>();
  private app: (AppConfig & { publicKey: KeyObject }) | undefined;
  private readonly minted = new Map<string, Extract<Caller, { kind: "installation" }>>();
  /** Tests: installation tokens are refused as if the App were suspended. */
  refuseInstallationTokens = false;
  /** Every installation token minted, in order (tests assert on refreshes). */
  readonly mintedTokens: Array<{ token: string; installationId: number; expiresAt: number }> = [];

  addToken(token: string, permissions: Permissions): void {
    this.tokens.set(token, permissions);
  }

  configureApp(config: AppConfig): void {
    this.app = { ...config, publicKey: createPublicKey(config.key) };
  }

  installationFor(fullName: string): number | undefined {
    if (!this.app) return undefined;
    const entry = Object.entries(this.app.installations).find(([name]) => name.toLowerCase() === fullName.toLowerCase());
    return entry?.[1];
  }

  mint(installationId: number, now: number): { token: string; expiresAt: number; permissions: Permissions } {
    const app = this.app!;
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    const expiresAt = now + (app.tokenLifetimeMs ?? 60 * 60_000);
    const repos = new Set(Object.entries(app.installations).filter(([, id]) => id === installationId).map(([name]) => name.toLowerCase()));
    this.minted.set(token, { kind: "installation", token, installationId, permissions: app.permissions, repos, expiresAt });
    this.mintedTokens.push({ token, installationId, expiresAt });
    return { token, expiresAt, permissions: app.permissions };
  }

  /** Tests: every installation token minted so far stops working (revoked, or expired early). */
  expireAll(): void {
    for (const token of this.minted.values()) token.expiresAt = 0;
  }

  /** Who the Authorization header says is calling. `wantsJwt`: an /app endpoint, where only the App's JWT works. */
  authenticate(authorization: { scheme: string; credential: string } | undefined, wantsJwt: boolean, now: number): AuthResult {
    if (!authorization) return { ok: false, status: 401, message: "Requires authentication" };
    const { scheme, credential } = authorization;
    if (scheme !== "token" && scheme !== "bearer") return { ok: false, status: 401, message: "Bad credentials" };
    const looksLikeJwt = credential.split(".").length === 3;
    if (wantsJwt) {
      if (!looksLikeJwt) return { ok: false, status: 401, message: "A JSON web token could not be decoded" };
      return this.verifyJwt(credential, now);
    }
    if (looksLikeJwt) {
      // GitHub's answer to an App JWT on an endpoint that needs an installation token.
      return { ok: false, status: 403, message: "Resource not accessible by integration" };
    }
    const installation = this.minted.get(credential);
    if (installation) {
      if (this.refuseInstallationTokens) return { ok: false, status: 401, message: "Bad credentials" };
      if (installation.expiresAt <= now) return { ok: false, status: 401, message: "Bad credentials" };
      return { ok: true, caller: installation };
    }
    const permissions = this.tokens.get(credential);
    if (permissions) return { ok: true, caller: { kind: "token", token: credential, permissions } };
    return { ok: false, status: 401, message: "Bad credentials" };
  }

  private verifyJwt(jwt: string, now: number): AuthResult {
    const app = this.app;
    const [headerPart, payloadPart, signaturePart] = jwt.split(".") as [string, string, string];
    const undecodable: AuthResult = { ok: false, status: 401, message: "A JSON web token could not be decoded" };
    let header: { alg?: unknown; typ?: unknown };
    let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
    } catch {
      return undecodable;
    }
    if (header.alg !== "RS256" || !app) return undecodable;
    const signed = verify("sha256", Buffer.from(`${headerPart}.${payloadPart}`), app.publicKey, Buffer.from(signaturePart, "base64url"));
    if (!signed) return undecodable;
    const seconds = Math.floor(now / 1000);
    if (typeof claims.iat !== "number" || !Number.isInteger(claims.iat) || claims.iat > seconds + 60) {
      return { ok: false, status: 401, message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued" };
    }
    if (typeof claims.exp !== "number" || claims.exp <= seconds) {
      return { ok: false, status: 401, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires" };
    }
    if (claims.exp > seconds + 600 || claims.exp - claims.iat > 660) {
      return { ok: false, status: 401, message: "'Expiration time' claim ('exp') is too far in the future" };
    }
    if (String(claims.iss) !== app.appId) return { ok: false, status: 401, message: "Integration not found" };
    return { ok: true, caller: { kind: "app", appId: app.appId } };
  }
}

/** Whether the caller holds `permission` at `access` or better. */
export function allows(caller: Caller, permission: Permission, access: Access): boolean {
  if (caller.kind === "app") return false;
  const held = caller.permissions[permission];
  return held === "write" || (held === "read" && access === "read");
}
