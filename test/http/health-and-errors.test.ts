// Probes, /metrics, the one onError mapping, the 404 answer and what the request log may contain.
import { HTTPException } from "hono/http-exception";
import { Counter } from "prom-client";
import { describe, expect, it } from "vitest";
import { ExecutorError, GustError, InputError } from "../../src/errors";
import { errorAnswer, HttpError } from "../../src/http";
import { createHarness, GITHUB_SECRETS, GITLAB_SECRETS, githubExample, githubRequest, gitlabFixture, gitlabRequest, json, newDeliveryId } from "./harness";

describe("probes", () => {
  it("/healthz answers while the process runs, whatever the dependencies say", async () => {
    const { app, setReadiness } = createHarness();
    setReadiness({ ready: false, reason: "database unreachable" });
    const response = await app.request("/healthz");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok" });
  });

  it("/readyz is 200 when the dependencies are ready", async () => {
    const { app } = createHarness();
    const response = await app.request("/readyz");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ready" });
  });

  it("/readyz is 503 with the reason when they are not", async () => {
    const { app, setReadiness } = createHarness();
    setReadiness({ ready: false, reason: "migrations pending" });
    const response = await app.request("/readyz");
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ status: "not_ready", reason: "migrations pending" });
  });

  it("/readyz is 503 when the probe throws", async () => {
    const { app, setReadiness } = createHarness();
    setReadiness(async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    });
    const response = await app.request("/readyz");
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ status: "not_ready", reason: "readiness check failed: connect ECONNREFUSED 127.0.0.1:5432" });
  });

  it("/readyz is 503 when the probe does not answer in time", async () => {
    const { app, setReadiness } = createHarness({ readinessTimeoutMs: 30 });
    setReadiness(() => new Promise(() => {}));
    const response = await app.request("/readyz");
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({ status: "not_ready", reason: "readiness check took longer than 30 ms" });
  });
});

describe("/metrics", () => {
  it("exposes webhook counts and latencies by forge and result, and the shared metrics", async () => {
    const { app, deps } = createHarness();
    await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: githubExample("push") }));
    await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: githubExample("push"), secret: "wrong" }));
    await app.request(githubRequest({ event: "ping", delivery: newDeliveryId(), body: githubExample("ping") }));
    await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), idempotencyKey: newDeliveryId() }));
    await app.request(gitlabRequest({ event: "System Hook", body: gitlabFixture("push"), idempotencyKey: newDeliveryId() }));
    deps.metrics.queueDepth.set(3);
    deps.metrics.jobDuration.observe({ executor: "local", result: "success" }, 12);
    deps.metrics.executorErrors.inc({ executor: "kubernetes", code: "pod_failed" });

    const response = await app.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('gust_webhooks_total{forge="github",result="created"} 1');
    expect(text).toContain('gust_webhooks_total{forge="github",result="unauthorized"} 1');
    expect(text).toContain('gust_webhooks_total{forge="github",result="pong"} 1');
    expect(text).toContain('gust_webhooks_total{forge="gitlab",result="created"} 1');
    expect(text).toContain('gust_webhooks_total{forge="gitlab",result="ignored"} 1');
    expect(text).toContain('gust_webhook_duration_seconds_count{forge="github",result="created"} 1');
    expect(text).toContain('gust_webhook_duration_seconds_bucket{le="+Inf",forge="github",result="created"} 1');
    expect(text).toContain("gust_queue_depth 3");
    expect(text).toContain('gust_job_duration_seconds_count{executor="local",result="success"} 1');
    expect(text).toContain('gust_executor_errors_total{executor="kubernetes",code="pod_failed"} 1');
  });

  it("serves what other modules register on the shared registry", async () => {
    const { app, deps } = createHarness();
    const counter = new Counter({ name: "gust_release_rollbacks_total", help: "Releases rolled back.", registers: [deps.metrics.registry] });
    counter.inc(2);
    expect(await (await app.request("/metrics")).text()).toContain("gust_release_rollbacks_total 2");
  });
});

describe("onError", () => {
  const failingAccept = async (error: unknown) => {
    const harness = createHarness();
    harness.intake.failWith = error;
    const response = await harness.app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: githubExample("push") }));
    return { response, body: await json(response), harness };
  };

  it("answers a user's mistake 400 with its code and message", async () => {
    const { response, body } = await failingAccept(new InputError("repository shop/api is not registered", "repository_unknown"));
    expect(response.status).toBe(400);
    expect(body).toEqual({ error: { code: "repository_unknown", message: "repository shop/api is not registered" } });
  });

  it("answers not found 404", async () => {
    const { response, body } = await failingAccept(new GustError("no pipeline 12", { fault: "user", retryable: false, code: "pipeline_not_found" }));
    expect(response.status).toBe(404);
    expect(body).toEqual({ error: { code: "pipeline_not_found", message: "no pipeline 12" } });
  });

  it("answers a retryable infrastructure failure 503 with Retry-After, and counts it", async () => {
    const { response, body, harness } = await failingAccept(new GustError("pg: connection terminated (host db-7.internal)", { fault: "infrastructure", retryable: true, code: "database_unavailable" }));
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(body).toEqual({ error: { code: "unavailable", message: "a service Gust depends on is unavailable; retry later" } });
    expect(JSON.stringify(body)).not.toContain("db-7.internal");
    expect(harness.logs().find((line) => line["msg"] === "request failed")?.["level"]).toBe(40); // a warning: nothing to fix in Gust
    const metrics = await (await harness.app.request("/metrics")).text();
    expect(metrics).toContain('gust_webhooks_total{forge="github",result="unavailable"} 1');
  });

  it.each([
    ["a plain Error", new Error("password authentication failed for user gust (postgres://gust:hunter2@db)")],
    ["a permanent infrastructure failure", new ExecutorError("kubeconfig /etc/gust/kube at cluster-9 rejected", { retryable: false })],
    ["a bug", new GustError("invariant broken at row 7", { fault: "internal", retryable: false, code: "bug" })],
    ["a non-Error throw", "just a string"],
  ])("answers %s 500 without internals, and logs it", async (_name, error) => {
    const { response, body, harness } = await failingAccept(error);
    expect(response.status).toBe(500);
    expect(body).toEqual({ error: { code: "internal", message: "internal error" } });
    const failure = harness.logs().find((line) => line["msg"] === "request failed");
    expect(failure?.["level"]).toBe(50);
  });

  it("uses an HttpError's own status and headers", () => {
    expect(errorAnswer(new HttpError(409, "conflict", "already running", { "X-Hint": "cancel first" }))).toEqual({
      status: 409,
      code: "conflict",
      message: "already running",
      headers: { "X-Hint": "cancel first" },
    });
  });

  it("keeps Hono's own client errors but hides its server errors", () => {
    expect(errorAnswer(new HTTPException(400, { message: "Malformed JSON in request body" }))).toMatchObject({ status: 400, message: "Malformed JSON in request body" });
    expect(errorAnswer(new HTTPException(500, { message: "boom" }))).toMatchObject({ status: 500, message: "internal error" });
  });

  it("answers unknown routes 404 in JSON", async () => {
    const { app } = createHarness();
    const response = await app.request("/hooks/bitbucket", { method: "POST" });
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ error: { code: "not_found", message: "no route for POST /hooks/bitbucket" } });
    expect((await app.request("/hooks/github")).status).toBe(404); // GET
  });
});

describe("request log", () => {
  it("writes one line per webhook with its delivery, never its body or secrets", async () => {
    const { app, logs, logText } = createHarness();
    const delivery = newDeliveryId();
    const payload = githubExample("push");
    await app.request(githubRequest({ event: "push", delivery, body: payload }));
    await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: payload, secret: "an-attacker-guess" }));
    await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), idempotencyKey: newDeliveryId() }));
    await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), token: "a-wrong-token", idempotencyKey: newDeliveryId() }));

    const lines = logs().filter((line) => line["msg"] === "request");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ level: 30, method: "POST", path: "/hooks/github", status: 202, forge: "github", event: "push", delivery, result: "created" });
    expect(typeof lines[0]?.["ms"]).toBe("number");
    expect(lines[1]).toMatchObject({ status: 401, result: "unauthorized" });
    expect(lines[3]).toMatchObject({ status: 401, forge: "gitlab", result: "unauthorized" });

    const text = logText();
    for (const secret of [...GITHUB_SECRETS, ...GITLAB_SECRETS, "an-attacker-guess", "a-wrong-token"]) expect(text).not.toContain(secret);
    expect(text).not.toContain("sha256=");
    expect(text).not.toContain((payload["repository"] as { full_name: string }).full_name); // from the GitHub push body
    expect(text).not.toContain("Validate currency codes"); // from the GitLab push body
  });

  it("logs probes at debug so they do not drown the rest", async () => {
    const { app, logs } = createHarness();
    await app.request("/healthz");
    expect(logs().find((line) => line["path"] === "/healthz")?.["level"]).toBe(20);
  });
});
