// GET /api/openapi.json: valid JSON, OpenAPI 3.1.0, every mounted /api route in it with its
// parameters, body, answers and security, and every reference resolving to a component.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../helpers/database";
import { createApiHarness, type ApiHarness } from "./api-harness";

type Operation = {
  operationId: string;
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string }> };
};

/** Every `$ref` anywhere in a value. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, found);
  else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (key === "$ref" && typeof item === "string") found.push(item);
      else refs(item, found);
    }
  }
  return found;
}

describe("API: OpenAPI document", () => {
  const test = useTestDatabase("pglite");
  let api: ApiHarness;
  let document: Document;
  beforeAll(async () => {
    api = await createApiHarness(test.database);
    const response = await api.call("GET", "/api/openapi.json", { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    document = JSON.parse(await response.text()) as Document;
  });
  afterAll(() => api.close());

  it("is OpenAPI 3.1.0 with the bearer security scheme", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.title).toBe("Gust API");
    expect(Object.values(document.components.securitySchemes)).toEqual([expect.objectContaining({ type: "http", scheme: "bearer" })]);
  });

  it("lists every mounted /api route with its method", () => {
    const mounted = api.app.routes.filter((route) => route.path.startsWith("/api/") && route.method !== "ALL");
    expect(mounted.length).toBeGreaterThanOrEqual(14);
    for (const route of mounted) {
      const path = route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)(\{[^}]*\})?/g, "{$1}");
      expect(document.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
    const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    const routes = new Set(mounted.map((route) => `${route.method} ${route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}")}`));
    expect(documented.filter((entry) => !routes.has(entry))).toEqual([]);
  });

  it("documents parameters, bodies, answers and who may call each operation", () => {
    const operationIds = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method} ${path}`;
        expect(operationIds.has(operation.operationId), where).toBe(false);
        operationIds.add(operation.operationId);
        const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
        expect(operation.parameters?.filter((p) => p.in === "path").map((p) => p.name) ?? [], where).toEqual(pathParams);
        expect(Object.keys(operation.responses).some((status) => status.startsWith("2")), where).toBe(true);
        for (const response of Object.values(operation.responses)) expect(response.description, where).toBeTruthy();
        const secured = path !== "/api/openapi.json";
        expect(operation.security.length > 0, where).toBe(secured);
        if (secured) expect(Object.keys(operation.responses), where).toEqual(expect.arrayContaining(["401", "403"]));
      }
    }
    const list = document.paths["/api/pipelines"]!["get"]!;
    expect(list.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([
      ["repository", "query", false],
      ["branch", "query", false],
      ["status", "query", false],
      ["limit", "query", false],
      ["cursor", "query", false],
    ]);
    expect(list.responses["200"]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/PipelineList" });
    expect(list.responses["400"]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/Error" });

    const retry = document.paths["/api/pipelines/{id}/retry"]!["post"]!;
    expect(retry.requestBody!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/RetryRequest" });
    expect(Object.keys(retry.responses).sort()).toEqual(["201", "400", "401", "403", "404", "409"]);
    const trigger = document.paths["/api/repositories/{id}/trigger"]!["post"]!;
    expect(Object.keys(trigger.responses)).toEqual(expect.arrayContaining(["200", "201", "202", "404"]));
    expect(document.paths["/api/jobs/{id}/logs/stream"]!["get"]!.responses["200"]!.content).toHaveProperty(["text/event-stream"]);
    expect(document.paths["/api/tokens/{id}"]!["delete"]!.responses["204"]).toEqual({ description: "revoked" });
  });

  it("describes the shapes as JSON Schema components that every reference resolves to", () => {
    const { schemas } = document.components;
    for (const ref of refs(document)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas[ref.slice("#/components/schemas/".length)], ref).toBeDefined();
    }
    expect(schemas["Pipeline"]).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["id", "repositoryId", "number", "status", "createdAt", "finishedAt"]),
      properties: { status: { $ref: "#/components/schemas/PipelineStatus" }, createdAt: { type: "string", format: "date-time" } },
    });
    expect(schemas["PipelineStatus"]).toEqual({ type: "string", enum: ["pending", "running", "success", "failure", "cancelled", "error", "skipped"] });
    expect(schemas["CreateTokenRequest"]).toMatchObject({ required: ["name", "scopes"], additionalProperties: false });
    expect(JSON.stringify(schemas)).not.toMatch(/"\$schema"|leaseOwner|"spec"/);
  });
});
