// POST /hooks/gitlab with payloads shaped as GitLab documents them (test/fixtures/gitlab).
import { describe, expect, it } from "vitest";
import { createHarness, endlessBody, GITLAB_SECRETS, gitlabFixture, gitlabRequest, json, newDeliveryId, REPOSITORY_ID, REPOSITORY_SECRETS } from "./harness";

const mergeRequest = (changes: Record<string, unknown>) => {
  const payload = JSON.parse(gitlabFixture("merge-request-open")) as { object_attributes: Record<string, unknown> };
  Object.assign(payload.object_attributes, changes);
  return JSON.stringify(payload);
};

describe("accepted deliveries", () => {
  it.each([
    ["Push Hook", "push"],
    ["Tag Push Hook", "tag-push"],
    ["Merge Request Hook", "merge-request-open"],
  ])("stores a %s and answers 202 created", async (event, fixture) => {
    const { app, intake } = createHarness();
    const key = newDeliveryId();
    const body = gitlabFixture(fixture);
    const response = await app.request(gitlabRequest({ event, body, idempotencyKey: key, eventUuid: newDeliveryId() }));
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ delivery: key, status: "created" });
    expect([...intake.stored.values()]).toEqual([{ forge: "gitlab", deliveryId: key, event, payload: JSON.parse(body) }]);
  });

  it("accepts the second configured token (rotation)", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), token: GITLAB_SECRETS[1]!, idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(202);
    expect(intake.stored.size).toBe(1);
  });

  it("falls back to X-Gitlab-Event-UUID when GitLab sends no Idempotency-Key", async () => {
    const { app, intake } = createHarness();
    const uuid = newDeliveryId();
    const response = await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), eventUuid: uuid }));
    expect(await json(response)).toEqual({ delivery: uuid, status: "created" });
    expect(intake.stored.has(`gitlab:${uuid}`)).toBe(true);
  });

  it("answers a retry with the same Idempotency-Key 202 duplicate", async () => {
    const { app, intake } = createHarness();
    const key = newDeliveryId();
    // A resent delivery keeps its Idempotency-Key but gets a new X-Gitlab-Event-UUID.
    const send = () => app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), idempotencyKey: key, eventUuid: newDeliveryId() }));
    expect(await json(await send())).toEqual({ delivery: key, status: "created" });
    const again = await send();
    expect(again.status).toBe(202);
    expect(await json(again)).toEqual({ delivery: key, status: "duplicate" });
    expect(intake.stored.size).toBe(1);
  });

  it("accepts a merge request update that brought new commits", async () => {
    const { app, intake } = createHarness();
    const body = mergeRequest({ action: "update", oldrev: "9d0e7c5a3b1f2e4d6c8a0b9e7f5d3c1a2b4e6f80" });
    const response = await app.request(gitlabRequest({ event: "Merge Request Hook", body, idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(202);
    expect(intake.stored.size).toBe(1);
  });

  it("accepts a reopened merge request", async () => {
    const { app } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Merge Request Hook", body: mergeRequest({ action: "reopen" }), idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(202);
  });

  it("uses the repository's own tokens on its route and passes its id on", async () => {
    const { app, intake } = createHarness();
    const key = newDeliveryId();
    const path = `/hooks/gitlab/${REPOSITORY_ID}`;
    const response = await app.request(gitlabRequest({ path, event: "Push Hook", body: gitlabFixture("push"), token: REPOSITORY_SECRETS.gitlab[0]!, idempotencyKey: key }));
    expect(response.status).toBe(202);
    expect(intake.stored.get(`gitlab:${key}`)?.repositoryId).toBe(REPOSITORY_ID);
    const global = await app.request(gitlabRequest({ path, event: "Push Hook", body: gitlabFixture("push"), idempotencyKey: newDeliveryId() }));
    expect(global.status).toBe(401);
  });
});

describe("events that start nothing", () => {
  it.each([
    ["update", {}, "merge request update without new commits"],
    ["close", {}, "merge request action 'close' does not start pipelines"],
    ["merge", {}, "merge request action 'merge' does not start pipelines"],
    ["approved", {}, "merge request action 'approved' does not start pipelines"],
  ])("ignores a merge request %s", async (action, extra, reason) => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Merge Request Hook", body: mergeRequest({ action, ...extra }), idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: reason });
    expect(intake.calls.accept).toBe(0);
  });

  it.each(["System Hook", "Pipeline Hook", "Note Hook", "Issue Hook"])("ignores %s without reading the body", async (event) => {
    const { app, intake } = createHarness();
    const body = endlessBody();
    const request = new Request("http://gust.test/hooks/gitlab", {
      method: "POST",
      headers: { "X-Gitlab-Token": GITLAB_SECRETS[0]!, "X-Gitlab-Event": event, "Idempotency-Key": newDeliveryId() },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: `event '${event}' does not start pipelines` });
    expect(body.pulled()).toBe(0);
    expect(intake.calls.accept).toBe(0);
  });
});

describe("refused deliveries store nothing", () => {
  it("401 without X-Gitlab-Token, before reading the body or asking for secrets", async () => {
    const { app, intake } = createHarness();
    const body = endlessBody();
    const request = new Request("http://gust.test/hooks/gitlab", {
      method: "POST",
      headers: { "X-Gitlab-Event": "Push Hook", "Idempotency-Key": newDeliveryId() },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: { code: "unauthorized", message: "missing header X-Gitlab-Token" } });
    expect(body.pulled()).toBe(0);
    expect(intake.calls).toEqual({ accept: 0, secretsFor: [] });
  });

  it.each([
    ["a wrong token", "wrong-token"],
    ["a prefix of the right token", GITLAB_SECRETS[0]!.slice(0, 10)],
    ["the right token and more", GITLAB_SECRETS[0]! + "x"],
  ])("401 for %s", async (_name, token) => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push"), token, idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(401);
    expect(await json(response)).toEqual({ error: { code: "unauthorized", message: "the token does not match" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 naming X-Gitlab-Event when it is missing", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ body: gitlabFixture("push"), idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { code: "missing_header", message: "missing header X-Gitlab-Event" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 naming both dedupe headers when neither is sent", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Push Hook", body: gitlabFixture("push") }));
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: { code: "missing_header", message: "missing header Idempotency-Key or X-Gitlab-Event-UUID" } });
    expect(intake.calls.accept).toBe(0);
  });

  it("400 for malformed JSON", async () => {
    const { app, intake } = createHarness();
    const response = await app.request(gitlabRequest({ event: "Push Hook", body: '{"object_kind": "push"', idempotencyKey: newDeliveryId() }));
    expect(response.status).toBe(400);
    expect(((await json(response))["error"] as { code: string }).code).toBe("malformed_json");
    expect(intake.calls.accept).toBe(0);
  });

  it("413 past the limit while streaming", async () => {
    const limit = 32 * 1024;
    const { app, intake } = createHarness({ bodyLimit: limit });
    const body = endlessBody(8 * 1024);
    const request = new Request("http://gust.test/hooks/gitlab", {
      method: "POST",
      headers: { "X-Gitlab-Token": GITLAB_SECRETS[0]!, "X-Gitlab-Event": "Push Hook", "Idempotency-Key": newDeliveryId() },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    const response = await app.request(request);
    expect(response.status).toBe(413);
    expect(body.pulled()).toBeLessThanOrEqual(limit + 2 * 8 * 1024);
    expect(intake.calls.accept).toBe(0);
  });
});
