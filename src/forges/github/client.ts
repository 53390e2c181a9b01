// Octokit clients for one GitHub (github.com, an Enterprise server, or the loopback stand-in):
// one for a plain token, or per installation for a GitHub App. App installation tokens are made
// from a JWT signed with the App's private key, looked up per repository, and reused until
// shortly before they expire.
import { App, Octokit } from "octokit";

export type GithubApi = InstanceType<typeof Octokit>;

export type GithubCredentials = { token: string } | { appId: number | string; privateKey: string };

export interface GithubClientOptions {
  /** REST API root: https://api.github.com (default), https://ghe.example.com/api/v3, a stand-in. */
  baseUrl?: string;
  credentials: GithubCredentials;
  /** Per request; a hung forge must not hold an outbox worker forever. Default 30 s. */
  timeoutMs?: number;
  /** Clock for token expiry (tests move it). */
  now?: () => number;
  log?: (message: string) => void;
}

/** Installation tokens live an hour; replace them this long before GitHub would refuse them. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export interface GithubAuth {
  /** A client allowed to act on OWNER/NAME. */
  forRepo(owner: string, name: string): Promise<GithubApi>;
  /** Drops cached credentials for the repository (after GitHub rejected them). */
  forget(owner: string, name: string): void;
  /** How the credentials are named in errors: "the token", "GitHub App 123". */
  readonly description: string;
  /** What a 401 on an API call means for these credentials. */
  readonly rejected: string;
  /** Whether forget() + a new forRepo() can bring fresh credentials (App installation tokens). */
  readonly renewable: boolean;
}

export function createGithubAuth(options: GithubClientOptions): GithubAuth {
  const Client = clientClass(options);
  return "token" in options.credentials
    ? new TokenAuth(new Client({ auth: options.credentials.token }))
    : new AppAuth(Client, options.credentials, options.now ?? Date.now);
}

function clientClass(options: GithubClientOptions): typeof Octokit {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const log = options.log ?? (() => {});
  return Octokit.defaults({
    baseUrl: (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, ""),
    userAgent: "gust",
    // One attempt per call: the outbox and the delivery processor retry with their own backoff,
    // and octokit's throttling would also space writes a second apart.
    retry: { enabled: false },
    throttle: { enabled: false },
    request: { fetch: (input: FetchInput, init?: RequestInit) => fetchWithTimeout(input, init, timeoutMs) },
    log: { debug: () => {}, info: () => {}, warn: (message: string) => log(message), error: (message: string) => log(message) },
  });
}

type FetchInput = Parameters<typeof fetch>[0];

function fetchWithTimeout(input: FetchInput, init: RequestInit | undefined, timeoutMs: number): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  return fetch(input, { ...init, signal });
}

class TokenAuth implements GithubAuth {
  readonly description = "the token";
  readonly rejected = "the token is wrong, expired or revoked";
  readonly renewable = false;

  constructor(private readonly client: GithubApi) {}

  async forRepo(): Promise<GithubApi> {
    return this.client;
  }

  forget(): void {}
}

interface InstallationToken {
  client: GithubApi;
  expiresAt: number;
}

class AppAuth implements GithubAuth {
  readonly description: string;
  readonly rejected: string;
  readonly renewable = true;
  private readonly app: App;
  /** OWNER/NAME → installation id (a promise, so concurrent first calls share one lookup). */
  private readonly installations = new Map<string, Promise<number>>();
  /** The same, once known: forget() must drop a token at once, not a tick later. */
  private readonly knownInstallations = new Map<string, number>();
  private readonly tokens = new Map<number, Promise<InstallationToken>>();

  constructor(
    private readonly Client: typeof Octokit,
    credentials: { appId: number | string; privateKey: string },
    private readonly now: () => number,
  ) {
    this.description = `GitHub App ${credentials.appId}`;
    this.rejected = `even a new installation token of ${this.description} was refused: the App may be suspended or its installation removed`;
    this.app = new App({ appId: credentials.appId, privateKey: credentials.privateKey, Octokit: Client });
  }

  async forRepo(owner: string, name: string): Promise<GithubApi> {
    const installationId = await this.installationFor(owner, name);
    const token = await this.tokenFor(installationId);
    return token.client;
  }

  forget(owner: string, name: string): void {
    const key = `${owner}/${name}`.toLowerCase();
    const installationId = this.knownInstallations.get(key);
    if (installationId !== undefined) this.tokens.delete(installationId);
    // Looked up again too: an App installed anew has a new installation id.
    this.installations.delete(key);
    this.knownInstallations.delete(key);
  }

  private installationFor(owner: string, name: string): Promise<number> {
    const key = `${owner}/${name}`.toLowerCase();
    let installation = this.installations.get(key);
    if (!installation) {
      // Authenticated with the App's JWT (octokit's App auth signs it for /repos/{owner}/{repo}/installation).
      installation = this.app.octokit.request("GET /repos/{owner}/{repo}/installation", { owner, repo: name }).then((response) => {
        this.knownInstallations.set(key, response.data.id);
        return response.data.id;
      });
      this.installations.set(key, installation);
      // A failed lookup is not remembered: the App may be installed a minute later.
      installation.catch(() => {
        if (this.installations.get(key) === installation) this.installations.delete(key);
      });
    }
    return installation;
  }

  private tokenFor(installationId: number): Promise<InstallationToken> {
    const cached = this.tokens.get(installationId);
    if (cached) {
      return cached.then((token) => (token.expiresAt - TOKEN_REFRESH_MARGIN_MS > this.now() ? token : this.refresh(installationId, cached)));
    }
    return this.refresh(installationId, undefined);
  }

  private refresh(installationId: number, stale: Promise<InstallationToken> | undefined): Promise<InstallationToken> {
    const current = this.tokens.get(installationId);
    // Someone else already started the refresh: share it.
    if (current && current !== stale) return current;
    const next = this.createToken(installationId);
    this.tokens.set(installationId, next);
    next.catch(() => {
      if (this.tokens.get(installationId) === next) this.tokens.delete(installationId);
    });
    return next;
  }

  private async createToken(installationId: number): Promise<InstallationToken> {
    // refresh: octokit's own cache keeps tokens 59 minutes whatever their expiry; this one follows expires_at.
    const auth = (await this.app.octokit.auth({ type: "installation", installationId, refresh: true })) as { token: string; expiresAt: string };
    const expiresAt = Date.parse(auth.expiresAt);
    return { client: new this.Client({ auth: auth.token }), expiresAt: Number.isFinite(expiresAt) ? expiresAt : this.now() + 60 * 60_000 };
  }
}
