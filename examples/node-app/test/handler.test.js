import assert from "node:assert/strict";
import { test } from "node:test";
import { greet } from "../src/handler.js";

test("greets by name", () => {
  assert.equal(greet("Gust"), "Hello, Gust!");
});

test("greets the world by default", () => {
  assert.equal(greet(""), "Hello, world!");
});
