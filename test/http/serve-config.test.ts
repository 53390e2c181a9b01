// `gust serve` configuration: defaults < config file < environment < flags, and an error message
// naming the source and field for every way a setting can be wrong.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type GustConfig } from "../../src/config";
import { InputError } from "../../src/errors";

const HEX_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const BASE64_KEY = Buffer.from(HEX_KEY, "hex").toString("base64");

function files(contents: Record<string, string>) {
  const reads: string[] = [];
  const readFile = (path: string) => {
    reads.push(path);
    const text = contents[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    return text;
  };
  return { readFile, reads };
}

function load(options: { argv?: string[]; env?: Record<string, string>; files?: Record<string, string> } = {}): GustConfig {
  return loadConfig({ argv: options.argv ?? [], env: options.env ?? {}, readFile: files(options.files ?? {}).readFile });
}

/** The problems of a configuration that must not load. */
function problems(options: Parameters<typeof load>[0]): string[] {
  try {
    load(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("the configuration loaded");
}

describe("defaults", () => {
  it("start one machine with the embedded database and local processes", () => {
    expect(load()).toEqual({
      host: "0.0.0.0",
      port: 8080,
      publicUrl: "http://localhost:8080",
      dataDir: "./.gust",
      executor: "local",
      maxConcurrentJobs: 4,
      webhookBodyLimit: 25 * 1024 * 1024,
      githubWebhookSecrets: [],
      gitlabWebhookSecrets: [],
      logLevel: "info",
      shutdownGraceMs: 30_000,
      leaseTimeoutMs: 60_000,
      scheduleRefreshMs: 300_000,
      runnerUploadLimit: 2 * 1024 ** 3,
      kubernetesNamespace: "default",
      kubernetesDefaultImage: "alpine:3.21",
      kubernetesHelperImage: "gust-helper:0.1.0",
      kubernetesImagePullSecrets: [],
      kubernetesImagePullTimeoutMs: 180_000,
      kubernetesUnschedulableTimeoutMs: 600_000,
      kubernetesKeepFailedPodsMs: 0,
      kubernetesVirtualNode: false,
      eciUseSpecs: true,
      eciAutoImageCache: false,
      alicloudProtocol: "https",
      localReleaseHost: "127.0.0.1",
    });
  });

  it("read the Kubernetes executor's settings from the environment, yes/no switches included", () => {
    const config = load({ env: { GUST_EXECUTOR: "kubernetes", GUST_KUBERNETES_NAMESPACE: "gust-jobs", GUST_KUBERNETES_VIRTUAL_NODE: "yes", GUST_ECI_USE_SPECS: "0", GUST_KUBERNETES_IMAGE_PULL_SECRETS: "registry-a,registry-b" } });
    expect(config).toMatchObject({ executor: "kubernetes", kubernetesNamespace: "gust-jobs", kubernetesVirtualNode: true, eciUseSpecs: false, kubernetesImagePullSecrets: ["registry-a", "registry-b"] });
  });

  it("read no file unless one is named", () => {
    const { readFile, reads } = files({});
    loadConfig({ argv: [], env: {}, readFile });
    expect(reads).toEqual([]);
  });
});

describe("precedence", () => {
  const file = { "gust.yml": "port: 7000\nhost: 10.0.0.5\nlog-level: debug\nexecutor: kubernetes\n" };

  it("the file overrides the defaults", () => {
    const config = load({ argv: ["--config", "gust.yml"], files: file });
    expect(config).toMatchObject({ port: 7000, host: "10.0.0.5", logLevel: "debug", executor: "kubernetes", configFile: "gust.yml" });
  });

  it("the environment overrides the file", () => {
    const config = load({ argv: ["--config", "gust.yml"], env: { GUST_PORT: "7100", GUST_LOG_LEVEL: "warn" }, files: file });
    expect(config).toMatchObject({ port: 7100, logLevel: "warn", host: "10.0.0.5" });
  });

  it("flags override the environment", () => {
    const config = load({ argv: ["--config", "gust.yml", "--port", "7200"], env: { GUST_PORT: "7100" }, files: file });
    expect(config.port).toBe(7200);
  });

  it("the last of a repeated flag wins", () => {
    expect(load({ argv: ["--port", "1", "--port=2"] }).port).toBe(2);
  });

  it("GUST_PORT beats the conventional PORT, which still works alone", () => {
    expect(load({ env: { PORT: "3000" } }).port).toBe(3000);
    expect(load({ env: { PORT: "3000", GUST_PORT: "4000" } }).port).toBe(4000);
  });

  it("GUST_DATABASE_URL beats DATABASE_URL, which still works alone", () => {
    expect(load({ env: { DATABASE_URL: "postgres://gust@db/gust" } }).databaseUrl).toBe("postgres://gust@db/gust");
    expect(load({ env: { DATABASE_URL: "postgres://a@db/a", GUST_DATABASE_URL: "postgresql://b@db/b" } }).databaseUrl).toBe("postgresql://b@db/b");
  });

  it("an empty environment variable counts as unset", () => {
    expect(load({ env: { GUST_PORT: "", PORT: "3000" } }).port).toBe(3000);
  });

  it("finds the file from GUST_CONFIG, and --config over it", () => {
    const both = { "a.yml": "port: 1111\n", "b.yml": "port: 2222\n" };
    expect(load({ env: { GUST_CONFIG: "a.yml" }, files: both }).port).toBe(1111);
    expect(load({ argv: ["--config", "b.yml"], env: { GUST_CONFIG: "a.yml" }, files: both }).port).toBe(2222);
  });

  it("reads JSON files too", () => {
    const config = load({ argv: ["--config", "gust.json"], files: { "gust.json": '{"port": 9090, "github-webhook-secrets": ["a", "b"]}' } });
    expect(config).toMatchObject({ port: 9090, githubWebhookSecrets: ["a", "b"] });
  });
});

describe("values", () => {
  it("derives the public URL from host and port, and trims a trailing slash from a given one", () => {
    expect(load({ argv: ["--host", "10.1.2.3", "--port", "9000"] }).publicUrl).toBe("http://10.1.2.3:9000");
    expect(load({ argv: ["--host", "::1"] }).publicUrl).toBe("http://[::1]:8080");
    expect(load({ env: { GUST_PUBLIC_URL: "https://ci.example.com/" } }).publicUrl).toBe("https://ci.example.com");
  });

  it.each([
    ["25MiB", 25 * 1024 * 1024],
    ["512 KiB", 512 * 1024],
    ["1MB", 1_000_000],
    ["2Mi", 2 * 1024 * 1024],
    ["4096", 4096],
  ])("reads the body limit %s", (text, bytes) => {
    expect(load({ env: { GUST_WEBHOOK_BODY_LIMIT: text } }).webhookBodyLimit).toBe(bytes);
  });

  it("takes a number of bytes in the file", () => {
    expect(load({ argv: ["--config", "g.yml"], files: { "g.yml": "webhook-body-limit: 1048576\n" } }).webhookBodyLimit).toBe(1048576);
  });

  it("splits webhook secrets on commas in the environment, keeps them whole in the file", () => {
    const config = load({
      argv: ["--config", "g.yml"],
      env: { GUST_GITHUB_WEBHOOK_SECRETS: "new-secret, old-secret," },
      files: { "g.yml": "gitlab-webhook-secrets:\n  - 'token, with a comma'\n  - second\n" },
    });
    expect(config.githubWebhookSecrets).toEqual(["new-secret", "old-secret"]);
    expect(config.gitlabWebhookSecrets).toEqual(["token, with a comma", "second"]);
  });

  it("decodes the master key from hex or base64", () => {
    expect(load({ env: { GUST_MASTER_KEY: HEX_KEY } }).masterKey?.toString("hex")).toBe(HEX_KEY);
    expect(load({ env: { GUST_MASTER_KEY: BASE64_KEY } }).masterKey?.toString("hex")).toBe(HEX_KEY);
  });

  it("reads the master key from a file, ignoring its trailing newline", () => {
    const config = load({ env: { GUST_MASTER_KEY_FILE: "/run/secrets/gust-key" }, files: { "/run/secrets/gust-key": BASE64_KEY + "\n" } });
    expect(config.masterKey?.toString("hex")).toBe(HEX_KEY);
    expect(config).not.toHaveProperty("masterKeyFile");
  });

  it("lets a key file given as a flag win over a key in the environment", () => {
    const other = "ff".repeat(32);
    const config = load({ argv: ["--master-key-file", "k"], env: { GUST_MASTER_KEY: other }, files: { k: HEX_KEY } });
    expect(config.masterKey?.toString("hex")).toBe(HEX_KEY);
  });

  it("treats a key left blank in the file as unset", () => {
    expect(load({ argv: ["--config", "g.yml"], files: { "g.yml": "port:\nhost: 127.0.0.1\n" } })).toMatchObject({ port: 8080, host: "127.0.0.1" });
  });

  it("accepts an empty file", () => {
    expect(load({ argv: ["--config", "g.yml"], files: { "g.yml": "# nothing yet\n" } }).port).toBe(8080);
  });
});

describe("error messages name the source and the field", () => {
  it.each<[string, Parameters<typeof load>[0], string]>([
    ["a port that is not a number", { env: { GUST_PORT: "abc" } }, "GUST_PORT: expected a port number, got 'abc'"],
    ["a port from PORT", { env: { PORT: "http" } }, "PORT: expected a port number, got 'http'"],
    ["a port out of range", { argv: ["--port", "70000"] }, "--port: expected a port number, got '70000'"],
    ["a negative port", { argv: ["--port=-1"] }, "--port: expected a port number, got '-1'"],
    ["an empty host", { argv: ["--host", " "] }, "--host: expected a host name or IP address to listen on, got ' '"],
    ["a public URL that is not http", { env: { GUST_PUBLIC_URL: "ftp://ci.example.com" } }, "GUST_PUBLIC_URL: expected an http:// or https:// URL, got 'ftp://ci.example.com'"],
    ["a public URL that is not a URL", { argv: ["--public-url", "ci.example.com"] }, "--public-url: expected an http:// or https:// URL, got 'ci.example.com'"],
    ["an empty data directory", { argv: ["--data-dir", ""] }, "--data-dir: expected a directory path, got ''"],
    ["an unknown executor", { env: { GUST_EXECUTOR: "docker" } }, "GUST_EXECUTOR: expected one of local, kubernetes, got 'docker'"],
    ["zero concurrent jobs", { argv: ["--max-concurrent-jobs", "0"] }, "--max-concurrent-jobs: expected a whole number from 1 to 100000, got '0'"],
    ["fractional concurrent jobs", { env: { GUST_MAX_CONCURRENT_JOBS: "2.5" } }, "GUST_MAX_CONCURRENT_JOBS: expected a whole number from 1 to 100000, got '2.5'"],
    ["a body limit that is not a size", { env: { GUST_WEBHOOK_BODY_LIMIT: "lots" } }, "GUST_WEBHOOK_BODY_LIMIT: expected a size from 1KiB to 1GiB, such as 25MiB, 512KiB or a number of bytes, got 'lots'"],
    ["a body limit too small", { argv: ["--webhook-body-limit", "100"] }, "--webhook-body-limit: expected a size from 1KiB to 1GiB, such as 25MiB, 512KiB or a number of bytes, got '100'"],
    ["a body limit in an unknown unit", { argv: ["--webhook-body-limit", "3parsecs"] }, "--webhook-body-limit: expected a size from 1KiB to 1GiB, such as 25MiB, 512KiB or a number of bytes, got '3parsecs'"],
    ["an unknown log level", { env: { GUST_LOG_LEVEL: "verbose" } }, "GUST_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got 'verbose'"],
    ["a negative grace period", { env: { GUST_SHUTDOWN_GRACE_MS: "-5" } }, "GUST_SHUTDOWN_GRACE_MS: expected a whole number of milliseconds up to 3600000, got '-5'"],
    ["a grace period with a unit", { argv: ["--shutdown-grace-ms", "30s"] }, "--shutdown-grace-ms: expected a whole number of milliseconds up to 3600000, got '30s'"],
  ])("%s", (_name, options, message) => {
    expect(problems(options)).toEqual([message]);
  });

  it("never echoes a secret value", () => {
    const secretish = {
      GUST_DATABASE_URL: "mysql://gust:hunter2@db/gust",
      GUST_MASTER_KEY: "hunter2-too-short",
    };
    const list = problems({ env: secretish });
    expect(list).toEqual([
      "GUST_DATABASE_URL: expected a postgres:// or postgresql:// URL",
      "GUST_MASTER_KEY: expected 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)",
    ]);
    expect(list.join("\n")).not.toContain("hunter2");
  });

  it("names the key file when its content is not a key", () => {
    expect(problems({ argv: ["--master-key-file", "/run/secrets/k"], files: { "/run/secrets/k": "not a key\n" } })).toEqual([
      "--master-key-file '/run/secrets/k': expected 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)",
    ]);
  });

  it("names the key file it cannot read", () => {
    expect(problems({ env: { GUST_MASTER_KEY_FILE: "/run/secrets/missing" } })).toEqual(["GUST_MASTER_KEY_FILE: cannot read '/run/secrets/missing' (ENOENT)"]);
  });

  it("refuses a key and a key file from the same source", () => {
    expect(problems({ env: { GUST_MASTER_KEY: HEX_KEY, GUST_MASTER_KEY_FILE: "k" }, files: { k: HEX_KEY } })).toEqual([
      "GUST_MASTER_KEY and GUST_MASTER_KEY_FILE: give the master key or a file holding it, not both",
    ]);
  });

  it("names the line of a bad value in the config file", () => {
    expect(problems({ argv: ["--config", "gust.yml"], files: { "gust.yml": "host: 0.0.0.0\n\nport: abc\n" } })).toEqual(["gust.yml:3: port: expected a port number, got 'abc'"]);
  });

  it("describes a list or a map where a value was expected", () => {
    expect(problems({ argv: ["--config", "g.yml"], files: { "g.yml": "port: [80]\nhost: {a: 1}\n" } })).toEqual([
      "g.yml:2: host: expected a host name or IP address to listen on, got a map",
      "g.yml:1: port: expected a port number, got a list",
    ]);
  });

  it("names the line of the empty secret in a list", () => {
    expect(problems({ argv: ["--config", "g.yml"], files: { "g.yml": "github-webhook-secrets:\n  - current\n  - ''\n" } })).toEqual([
      "g.yml:3: github-webhook-secrets[1]: expected a non-empty secret",
    ]);
  });

  it("wants a list of secrets, not one string, in the file", () => {
    expect(problems({ argv: ["--config", "g.yml"], files: { "g.yml": "gitlab-webhook-secrets: just-one\n" } })).toEqual([
      "g.yml:1: gitlab-webhook-secrets: expected a list of non-empty secrets",
    ]);
  });

  it("names an unknown key in the file and suggests the right one", () => {
    expect(problems({ argv: ["--config", "g.yml"], files: { "g.yml": "port: 80\nprot: 81\npublicUrl: https://x\ncolour: blue\n" } })).toEqual([
      "g.yml:2: prot: unknown setting (did you mean 'port'?)",
      "g.yml:3: publicUrl: unknown setting (did you mean 'public-url'?)",
      "g.yml:4: colour: unknown setting",
    ]);
  });

  it("gives the line of a YAML syntax error", () => {
    const [problem] = problems({ argv: ["--config", "g.yml"], files: { "g.yml": "port: 80\nhost: [unclosed\n" } });
    expect(problem).toMatch(/^g\.yml:[23]: /);
  });

  it("rejects a file that is not a map of settings", () => {
    expect(problems({ argv: ["--config", "g.yml"], files: { "g.yml": "- port: 80\n" } })).toEqual(["g.yml:1: expected a map of settings such as 'port: 8080'"]);
  });

  it("names the config file it cannot read and where it was named", () => {
    expect(problems({ argv: ["--config", "nope.yml"] })).toEqual(["--config: cannot read 'nope.yml' (ENOENT)"]);
    expect(problems({ env: { GUST_CONFIG: "nope.yml" } })).toEqual(["GUST_CONFIG: cannot read 'nope.yml' (ENOENT)"]);
  });

  it("names unknown flags, suggesting the closest", () => {
    expect(problems({ argv: ["--prot", "80"] })).toEqual(["--prot: unknown flag (did you mean --port?)"]);
    expect(problems({ argv: ["--verbose"] })[0]).toMatch(/^--verbose: unknown flag; the flags are --config, --host, --port, /);
  });

  it("refuses secrets as flags, saying where to put them", () => {
    expect(problems({ argv: ["--github-webhook-secrets", "s3cret"] })).toEqual([
      "--github-webhook-secrets: not accepted as a flag (the command line is visible to other users); set GUST_GITHUB_WEBHOOK_SECRETS or 'github-webhook-secrets' in the config file",
    ]);
    expect(problems({ argv: ["--database-url=postgres://u:p@db/x"] })[0]).toMatch(/^--database-url: not accepted as a flag/);
  });

  it("names a flag without its value, and stray arguments", () => {
    expect(problems({ argv: ["--port"] })).toEqual(["--port: expects a value"]);
    expect(problems({ argv: ["extra"] })).toEqual(["'extra': unexpected argument; settings are given as --name value"]);
  });

  it("reports every problem at once, as one InputError", () => {
    let caught: unknown;
    try {
      load({ argv: ["--config", "g.yml", "--nope"], env: { GUST_PORT: "abc", GUST_EXECUTOR: "docker" }, files: { "g.yml": "colour: blue\n" } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    const error = caught as ConfigError;
    expect(error.fault).toBe("user");
    expect(error.code).toBe("invalid_config");
    expect(error.problems).toHaveLength(4);
    expect(error.message).toBe(error.problems.join("\n"));
  });
});
