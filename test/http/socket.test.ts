// The app behind @hono/node-server on a real loopback socket: what a forge actually talks to.
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signGithubBody } from "../../src/http";
import { createHarness, GITHUB_SECRETS, githubExample, newDeliveryId, type Harness } from "./harness";

const LIMIT = 64 * 1024;
let harness: Harness;
let server: ServerType;
let base: string;

beforeAll(async () => {
  harness = createHarness({ bodyLimit: LIMIT });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: harness.app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if ("closeAllConnections" in server) server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("over a socket", () => {
  it("accepts a signed push, then answers its redelivery duplicate", async () => {
    const body = JSON.stringify(githubExample("push"));
    const delivery = newDeliveryId();
    const send = () =>
      fetch(`${base}/hooks/github`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signGithubBody(body, GITHUB_SECRETS[1]!) },
        body,
      });
    const first = await send();
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ delivery, status: "created" });
    const second = await send();
    expect(await second.json()).toEqual({ delivery, status: "duplicate" });
    expect(harness.intake.stored.has(`github:${delivery}`)).toBe(true);
  });

  it("refuses a bad signature 401", async () => {
    const body = JSON.stringify(githubExample("push"));
    const response = await fetch(`${base}/hooks/github`, {
      method: "POST",
      headers: { "X-GitHub-Event": "push", "X-GitHub-Delivery": newDeliveryId(), "X-Hub-Signature-256": signGithubBody(body, "wrong") },
      body,
    });
    expect(response.status).toBe(401);
  });

  it("answers 413 from Content-Length before the body is sent", async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpRequest(`${base}/hooks/github`, {
        method: "POST",
        headers: { "Content-Length": String(10 * 1024 * 1024), "X-Hub-Signature-256": "sha256=" + "0".repeat(64) },
      });
      request.on("response", resolve);
      request.on("error", reject);
      request.flushHeaders(); // headers only: the answer must not wait for the 10 MiB
    });
    expect(response.statusCode).toBe(413);
    response.resume();
    response.socket.destroy();
  });

  it("answers 413 to a chunked upload that never ends, while it is still being sent", async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    let written = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${base}/hooks/github`, {
        method: "POST",
        headers: {
          "Transfer-Encoding": "chunked",
          "X-Hub-Signature-256": "sha256=" + "0".repeat(64),
          "X-GitHub-Event": "push",
          "X-GitHub-Delivery": newDeliveryId(),
        },
      });
      let answered = false;
      request.on("response", (response) => {
        answered = true;
        response.resume();
        resolve(response.statusCode ?? 0);
        request.destroy();
      });
      request.on("error", (error) => (answered ? undefined : reject(error)));
      const pump = () => {
        // Give up well past anything socket buffers could absorb: the server must answer first.
        while (!answered && written < 64 * 1024 * 1024) {
          written += chunk.byteLength;
          if (!request.write(chunk)) return void request.once("drain", pump);
        }
        if (!answered) reject(new Error(`no answer after ${written} bytes`));
      };
      pump();
    });
    expect(status).toBe(413);
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(harness.intake.calls.accept).toBe(1 + 1); // only the two pushes of the first test reached the intake
  });
});
