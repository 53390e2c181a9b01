// /api/repositories and the manual trigger route (its use case is a fake here: the route's part is
// validation, the repository check and turning each result into its status and body).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../../src/errors";
import { useTestDatabase } from "../helpers/database";
import { createApiHarness, errorOf, json, type ApiHarness } from "./api-harness";

describe("API: repositories and triggers", () => {
  const test = useTestDatabase("pglite");
  let api: ApiHarness;
  let github: number;
  let local: number;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
    github = (await api.repositories.createRepository({ forge: "github", fullName: "acme/app", credentials: { token: "ghp_secret_credential" }, webhookSecrets: ["whsec-hidden"] })).id;
    local = (await api.repositories.createRepository({ forge: "local", fullName: "/srv/repos/tool" })).id;
    await api.repositories.createRepository({ forge: "gitlab", fullName: "group/project", apiUrl: "https://gitlab.example.com/api/v4" });
  });
  afterAll(() => api.close());

  it("lists repositories with their public fields only", async () => {
    const response = await api.call("GET", "/api/repositories", { token: api.token.read });
    expect(response.status).toBe(200);
    const text = await response.clone().text();
    for (const hidden of ["ghp_secret_credential", "whsec-hidden", "credentials", "webhookSecrets", "settings", "defaultBranch"]) expect(text).not.toContain(hidden);
    const body = (await response.json()) as { repositories: Array<Record<string, unknown>> };
    expect(body.repositories.map((r) => r.fullName)).toEqual(["acme/app", "group/project", "/srv/repos/tool"]);
    expect(body.repositories[1]).toEqual({ id: expect.any(Number), forge: "gitlab", fullName: "group/project", apiUrl: "https://gitlab.example.com/api/v4", createdAt: expect.stringMatching(/Z$/) });
  });

  it("filters by exact full name", async () => {
    const body = (await json(await api.call("GET", "/api/repositories?name=%2Fsrv%2Frepos%2Ftool"))) as { repositories: Array<{ id: number }> };
    expect(body.repositories.map((r) => r.id)).toEqual([local]);
    expect(await json(await api.call("GET", "/api/repositories?name=acme"))).toEqual({ repositories: [] });
    const bad = await api.call("GET", "/api/repositories?fullName=acme/app");
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ code: "invalid_request", field: "fullName" });
  });

  it("registers a repository with the admin scope only, sealing its credentials, 409 for a second time", async () => {
    const body = { forge: "github", fullName: "acme/new", credentials: { token: "ghp_registered_secret" }, webhookSecrets: ["whsec-new"], cloneUrl: "https://git.example.com/acme/new.git" };
    const refused = await api.call("POST", "/api/repositories", { token: api.token.write, body });
    expect(refused.status).toBe(403);
    const created = await api.call("POST", "/api/repositories", { token: api.token.admin, body });
    expect(created.status).toBe(201);
    const text = await created.clone().text();
    expect(text).not.toContain("ghp_registered_secret");
    const repository = (await created.json()) as { id: number; fullName: string };
    expect(repository).toMatchObject({ forge: "github", fullName: "acme/new", apiUrl: null });
    expect(await api.repositories.credentials(repository.id)).toEqual({ token: "ghp_registered_secret" });
    expect(await api.repositories.webhookSecrets(repository.id)).toEqual(["whsec-new"]);
    const again = await api.call("POST", "/api/repositories", { token: api.token.admin, body });
    expect(again.status).toBe(409);
    const relative = await api.call("POST", "/api/repositories", { token: api.token.admin, body: { forge: "local", fullName: "some/dir" } });
    expect(relative.status).toBe(400);
    const unknown = await api.call("POST", "/api/repositories", { token: api.token.admin, body: { forge: "bitbucket", fullName: "a/b" } });
    expect(await errorOf(unknown)).toMatchObject({ code: "invalid_request", field: "forge" });
  });

  it("shows one repository, 404 for an unknown one", async () => {
    expect(await json(await api.call("GET", `/api/repositories/${github}`))).toMatchObject({ id: github, forge: "github", fullName: "acme/app", apiUrl: null });
    const missing = await api.call("GET", "/api/repositories/4242");
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "not_found", message: "repository 4242 not found" });
  });

  it("triggers: 201 with the pipelines created", async () => {
    api.trigger.answer = { status: "created", sha: "d00dfeed", ref: "refs/heads/main", pipelines: [{ id: 7, number: 3, name: "deploy", status: "pending" }] };
    api.trigger.calls.length = 0;
    const response = await api.call("POST", `/api/repositories/${github}/trigger`, { token: api.token.write, body: { ref: "main", inputs: { env: "prod", replicas: 3, dry: false }, pipeline: "deploy" } });
    expect(response.status).toBe(201);
    expect(await json(response)).toEqual({ sha: "d00dfeed", ref: "refs/heads/main", pipelines: [{ id: 7, number: 3, name: "deploy", status: "pending" }] });
    expect(api.trigger.calls).toEqual([{ repositoryId: github, request: { ref: "main", inputs: { env: "prod", replicas: 3, dry: false }, pipeline: "deploy", actor: "writer" } }]);
  });

  it("triggers: 200 with the reason when nothing ran, 202 when it is stored for later", async () => {
    api.trigger.answer = { status: "not_triggered", sha: "d00dfeed", ref: "refs/heads/main", reason: "no pipeline has a manual trigger" };
    api.trigger.calls.length = 0;
    const nothing = await api.call("POST", `/api/repositories/${local}/trigger`, { token: api.token.write });
    expect(nothing.status).toBe(200);
    expect(await json(nothing)).toEqual({ sha: "d00dfeed", ref: "refs/heads/main", pipelines: [], reason: "no pipeline has a manual trigger" });
    expect(api.trigger.calls).toEqual([{ repositoryId: local, request: { actor: "writer" } }]);

    api.trigger.answer = { status: "pending", deliveryId: 55 };
    const pending = await api.call("POST", `/api/repositories/${github}/trigger`, { token: api.token.write, body: {} });
    expect(pending.status).toBe(202);
    expect(await json(pending)).toEqual({ deliveryId: 55, status: "pending" });
  });

  it("triggers: 404 for an unknown repository, 400 for bad input (from the body or from the use case)", async () => {
    api.trigger.calls.length = 0;
    expect((await api.call("POST", "/api/repositories/4242/trigger", { token: api.token.write, body: {} })).status).toBe(404);
    const cases: Array<[unknown, string]> = [
      [{ inputs: { env: ["prod"] } }, "inputs.env"],
      [{ inputs: "env=prod" }, "inputs"],
      [{ ref: "" }, "ref"],
      [{ ref: 42 }, "ref"],
      [{ pipelines: "deploy" }, "pipelines"],
    ];
    for (const [body, field] of cases) {
      const response = await api.call("POST", `/api/repositories/${github}/trigger`, { token: api.token.write, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(response), JSON.stringify(body)).toMatchObject({ code: "invalid_request", field });
    }
    expect(api.trigger.calls).toEqual([]);

    api.trigger.answer = new InputError("input 'replicas' must be a number, got 'three'", "invalid_inputs");
    const refused = await api.call("POST", `/api/repositories/${github}/trigger`, { token: api.token.write, body: { inputs: { replicas: "three" } } });
    expect(refused.status).toBe(400);
    expect(await errorOf(refused)).toEqual({ code: "invalid_inputs", message: "input 'replicas' must be a number, got 'three'" });
  });
});
