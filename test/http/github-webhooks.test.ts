// POST /hooks/github with the payloads GitHub really sends (@octokit/webhooks-examples).
import { describe, expect, it } from "vitest";
import { signGithubBody } from "../../src/http";
import {
  createHarness,
  endlessBody,
  GITHUB_SECRETS,
  githubExample,
  githubRequest,
  json,
  MemoryIntake,
  newDeliveryId,
  REPOSITORY_ID,
  REPOSITORY_SECRETS,
} from "./harness";

describe("accepted deliveries", () => {
  it("stores a signed push and answers 202 created", async () => {
    const { app, intake } = createHarness();
    const payload = githubExample("push");
    const delivery = newDeliveryId();
    const response = await app.request(githubRequest({ event: "push", delivery, body: payload }));
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ delivery, status: "created" });
    expect([...intake.stored.values()]).toEqual([{ forge: "github", deliveryId: delivery, event: "push", payload }]);
    expect(intake.calls.secretsFor).toEqual([["github", undefined]]);
  });

  it("accepts a delivery signed with the second configured secret (rotation)", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(
      githubRequest({ event: "pull_request", delivery: newDeliveryId(), body: githubExample("pull_request", "opened"), secret: GITHUB_SECRETS[1]! }),
    );
    expect(response.status).toBe(202);
    expect(intake.stored.size).toBe(1);
  });

  it.each(["opened", "synchronize", "reopened"])("accepts pull_request %s", async (action) => {
    const { app, intake } = createHarness();
    const payload = githubExample("pull_request", action);
    const response = await app.request(githubRequest({ event: "pull_request", delivery: newDeliveryId(), body: payload }));
    expect(response.status).toBe(202);
    expect([...intake.stored.values()][0]?.payload).toEqual(payload);
  });

  it("answers a redelivery 202 duplicate and stores nothing new", async () => {
    const { app, intake } = createHarness();
    const delivery = newDeliveryId();
    const send = () => app.request(githubRequest({ event: "push", delivery, body: githubExample("push") }));
    expect(await json(await send())).toEqual({ delivery, status: "created" });
    const again = await send();
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual({ delivery, status: "duplicate" });
    expect(intake.stored.size).toBe(1);
  });

  it("verifies the exact bytes received, whitespace and key order included", async () => {
    const { app, intake } = createHarness();
    const body = JSON.stringify(githubExample("push"), null, 2) + "\n";
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body }));
    expect(response.status).toBe(202);
    expect(intake.stored.size).toBe(1);
  });

  it("reads the payload field of a form-encoded delivery", async () => {
    const { app, intake } = createHarness();
    const payload = githubExample("push");
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const response = await app.request(
      githubRequest({ event: "push", delivery: newDeliveryId(), body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
    );
    expect(response.status).toBe(202);
    expect([...intake.stored.values()][0]?.payload).toEqual(payload);
  });
});

describe("the repository route", () => {
  it("checks that repository's secrets and passes its id on", async () => {
    const { app, intake } = createHarness();
    const path = `/hooks/github/${REPOSITORY_ID}`;
    const delivery = newDeliveryId();
    const response = await app.request(githubRequest({ path, event: "push", delivery, body: githubExample("push"), secret: REPOSITORY_SECRETS.github[0]! }));
    expect(response.status).toBe(202);
    expect(intake.calls.secretsFor).toEqual([["github", REPOSITORY_ID]]);
    expect(intake.stored.get(`github:${delivery}`)?.repositoryId).toBe(REPOSITORY_ID);
  });

  it("refuses the global secret on a repository's route", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ path: `/hooks/github/${REPOSITORY_ID}`, event: "push", delivery: newDeliveryId(), body: githubExample("push") }));
    expect(response.status).toBe(401);
    expect(intake.calls.accept).toBe(0);
  });

  it("refuses an unknown repository like a bad signature", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ path: "/hooks/github/7", event: "push", delivery: newDeliveryId(), body: githubExample("push") }));
    expect(response.status).toBe(401);
    expect(intake.calls.accept).toBe(0);
  });

  it("answers 404 for a repository id that is not a number", async () => {
    const { app } = createHarness();
    const response = await app.request(githubRequest({ path: "/hooks/github/abc", event: "push", delivery: newDeliveryId(), body: "{}" }));
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ error: { code: "not_found", message: "no route for POST /hooks/github/abc" } });
  });

  it("answers 404 for a repository id no database could hold", async () => {
    const { app, intake } = createHarness();
    const path = "/hooks/github/123456789012345678901234567890";
    const response = await app.request(githubRequest({ path, event: "push", delivery: newDeliveryId(), body: "{}" }));
    expect(response.status).toBe(404);
    expect(await json(response)).toEqual({ error: { code: "not_found", message: `no route for POST ${path}` } });
    expect(intake.calls.secretsFor).toEqual([]);
  });
});

describe("refused deliveries store nothing", () => {
  const push = () => githubExample("push");

  it("401 without X-Hub-Signature-256, before asking for secrets", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: push(), signature: null }));
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: { code: "unauthorized", message: "missing header X-Hub-Signature-256" } });
    expect(intake.calls).toEqual({ accept: 0, secretsFor: [] });
  });

  it("401 for a signature made with another secret", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: push(), secret: "not-a-configured-secret" }));
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: { code: "unauthorized", message: "the signature does not match" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("401 for a body changed after signing", async () => {
    const { app, intake } = createHarness();
    const signed = JSON.stringify(push());
    const tampered = signed.replace('"refs/tags/simple-tag"', '"refs/heads/main"');
    expect(tampered).not.toBe(signed);
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: tampered, signature: signGithubBody(signed, GITHUB_SECRETS[0]!) }));
    expect(response.status).toBe(401);
    expect(intake.calls.accept).toBe(0);
  });

  it.each([
    ["a SHA-1 signature", (body: string) => `sha1=${signGithubBody(body, GITHUB_SECRETS[0]!).slice(7, 47)}`],
    ["a bare hex digest", (body: string) => signGithubBody(body, GITHUB_SECRETS[0]!).slice(7)],
    ["a truncated digest", (body: string) => signGithubBody(body, GITHUB_SECRETS[0]!).slice(0, 40)],
    ["garbage", () => "sha256=zz"],
  ])("401 for %s", async (_name, sign) => {
    const { app, intake } = createHarness();
    const body = JSON.stringify(push());
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body, signature: sign(body) }));
    expect(response.status).toBe(401);
    expect(intake.calls.accept).toBe(0);
  });

  it("401 for everyone when no secret is configured, saying why in the log", async () => {
    const { app, intake, logs } = createHarness({ intake: new MemoryIntake({ github: [], gitlab: [] }) });
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body: push() }));
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: { code: "unauthorized", message: "the signature does not match" } });
    expect(intake.calls.accept).toBe(0);
    expect(logs().find((line) => line["msg"] === "request")).toMatchObject({ status: 401, result: "unauthorized", reason: "no webhook secrets configured" });
  });

  it("400 naming X-GitHub-Event when it is missing", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ delivery: newDeliveryId(), body: push() }));
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { code: "missing_header", message: "missing header X-GitHub-Event" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 naming X-GitHub-Delivery when it is missing", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "push", body: push() }));
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { code: "missing_header", message: "missing header X-GitHub-Delivery" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 for a delivery id that could not be a key", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "push", delivery: "x".repeat(201), body: push() }));
    expect(response.status).toBe(400);
    expect(((await json(response))["error"] as { code: string }).code).toBe("invalid_header");
    expect(intake.calls.accept).toBe(0);
  });

  it.each([
    ["malformed JSON", '{"ref": "refs/heads/main",', "the body is not valid UTF-8 JSON"],
    ["a JSON array", "[1, 2]", "the body must be a JSON object"],
    ["JSON null", "null", "the body must be a JSON object"],
  ])("400 for %s, after the signature matched", async (_name, body, message) => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body }));
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { code: "malformed_json", message } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 for bytes that are not UTF-8", async () => {
    const { app, intake } = createHarness();
    const body = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff\xfe":1}
    const request = new Request("http://gust.test/hooks/github", {
      method: "POST",
      headers: { "X-GitHub-Event": "push", "X-GitHub-Delivery": newDeliveryId(), "X-Hub-Signature-256": signGithubBody(body, GITHUB_SECRETS[0]!) },
      body,
    });
    const response = await app.request(request);
    expect(response.status).toBe(400);
    expect(intake.calls.accept).toBe(0);
  });
});

describe("events that start nothing", () => {
  it("answers a ping with pong", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "ping", delivery: newDeliveryId(), body: githubExample("ping") }));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ message: "pong" });
    expect(intake.calls.accept).toBe(0);
  });

  it.each(["closed", "labeled", "assigned", "ready_for_review"])("ignores pull_request %s with the reason", async (action) => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event: "pull_request", delivery: newDeliveryId(), body: githubExample("pull_request", action) }));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: `pull_request action '${action}' does not start pipelines` });
    expect(intake.calls.accept).toBe(0);
  });

  it.each([
    ["issues", "opened"],
    ["star", "created"],
    ["installation", "created"],
    ["workflow_run", undefined],
  ])("ignores %s events with the reason", async (event, action) => {
    const { app, intake } = createHarness();
    const response = await app.request(githubRequest({ event, delivery: newDeliveryId(), body: githubExample(event, action) }));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: `event '${event}' does not start pipelines` });
    expect(intake.calls.accept).toBe(0);
  });

  it("still refuses an ignored event with a bad signature", async () => {
    const { app } = createHarness();
    const response = await app.request(githubRequest({ event: "issues", delivery: newDeliveryId(), body: githubExample("issues"), secret: "wrong" }));
    expect(response.status).toBe(401);
  });
});

describe("body size limit", () => {
  const limit = 64 * 1024;

  it("413 from the declared length, without reading the body or asking for secrets", async () => {
    const { app, intake } = createHarness({ bodyLimit: limit });
    const body = endlessBody();
    const request = new Request("http://gust.test/hooks/github", {
      method: "POST",
      headers: { "Content-Length": String(limit + 1), "X-Hub-Signature-256": "sha256=" + "0".repeat(64), "X-GitHub-Event": "push", "X-GitHub-Delivery": newDeliveryId() },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    expect(await json(response)).toEqual({ error: { code: "payload_too_large", message: `the body is larger than ${limit} bytes` } });
    expect(body.pulled()).toBe(0);
    expect(intake.calls).toEqual({ accept: 0, secretsFor: [] });
  });

  it("413 while streaming a body of unknown length, having pulled little more than the limit", async () => {
    const { app, intake } = createHarness({ bodyLimit: limit });
    const chunk = 16 * 1024;
    const body = endlessBody(chunk);
    const request = new Request("http://gust.test/hooks/github", {
      method: "POST",
      headers: { "X-Hub-Signature-256": "sha256=" + "0".repeat(64), "X-GitHub-Event": "push", "X-GitHub-Delivery": newDeliveryId() },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    expect(response.status).toBe(413);
    // The endless body never ends: answering at all shows the reading stopped.
    expect(body.pulled()).toBeGreaterThan(limit);
    expect(body.pulled()).toBeLessThanOrEqual(limit + 2 * chunk);
    expect(intake.calls.accept).toBe(0);
  });

  it("accepts a body of exactly the limit", async () => {
    const { app, intake } = createHarness({ bodyLimit: limit });
    const compact = JSON.stringify({ ref: "refs/heads/main", after: "b41c6e2d8a9f0e3c7d5b1a4f6e2c9d8b7a3f5e10" });
    const body = compact.slice(0, -1) + " ".repeat(limit - compact.length) + "}";
    expect(Buffer.byteLength(body)).toBe(limit);
    const response = await app.request(githubRequest({ event: "push", delivery: newDeliveryId(), body }));
    expect(response.status).toBe(202);
    expect(intake.stored.size).toBe(1);
  });

  it("defaults to 25 MiB, like GitHub", async () => {
    const { app } = createHarness();
    const request = new Request("http://gust.test/hooks/github", {
      method: "POST",
      headers: { "Content-Length": String(25 * 1024 * 1024 + 1), "X-Hub-Signature-256": "sha256=" + "0".repeat(64) },
      body: endlessBody().stream,
      duplex: "half",
    } as RequestInit);
    expect((await app.request(request)).status).toBe(413);
  });
});
