// The Kubernetes API stand-in, driven through the real @kubernetes/client-node: REST verbs and their
// errors, watches (resume, 410, bookmarks, drops), logs (follow, timestamps, sinceTime, waiting
// containers), faults, the simulated kubelet running a protocol pod, and garbage collection.
import { request as httpRequest } from "node:http";
import { Writable } from "node:stream";
import { ApiException, CoreV1Api, Log, PatchStrategy, setHeaderOptions, Watch, type V1Pod, type V1Secret } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startKubernetesStandIn, type KubernetesStandIn, type Pod } from "./kubernetes-api";

const NS = "default";
let standIn: KubernetesStandIn;
let api: CoreV1Api;

async function start(options: Parameters<typeof startKubernetesStandIn>[0] = {}): Promise<void> {
  standIn = await startKubernetesStandIn(options);
  api = standIn.kubeConfig.makeApiClient(CoreV1Api);
}

afterEach(async () => {
  await standIn?.close();
});

/** Polls the stand-in's own state (not a timing assertion: it only waits for a state to be reached). */
async function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 2_000; attempt += 1) {
    const value = read();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never happened: ${what}`);
}

function podOf(name: string): Pod | undefined {
  return standIn.pods(NS).find((pod) => pod.metadata.name === name);
}

function simplePod(name: string, labels: Record<string, string> = {}, command?: string[]): V1Pod {
  return {
    metadata: { name, labels },
    spec: { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36", ...(command ? { command } : {}) }] },
  };
}

async function apiError(call: Promise<unknown>): Promise<ApiException<string>> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiException);
  return error as ApiException<string>;
}

function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${standIn.url}${path}`, { ...init, headers: { authorization: `Bearer ${standIn.token}`, "content-type": "application/json", ...init.headers } });
}

describe("REST verbs", () => {
  beforeEach(() => start({ driver: { run: false } }));

  it("creates, gets, lists by label and deletes pods, answering like the API server", async () => {
    const created = await api.createNamespacedPod({ namespace: NS, body: simplePod("one", { app: "gust", tier: "a" }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.status?.phase).toBe("Pending");
    expect(created.spec?.containers[0]?.terminationMessagePolicy).toBe("File");
    await api.createNamespacedPod({ namespace: NS, body: simplePod("two", { app: "gust", tier: "b" }) });
    await api.createNamespacedPod({ namespace: NS, body: simplePod("three", { app: "other" }) });

    const read = await api.readNamespacedPod({ namespace: NS, name: "one" });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    const byEquality = await api.listNamespacedPod({ namespace: NS, labelSelector: "app=gust,tier=b" });
    expect(byEquality.items.map((pod) => pod.metadata?.name)).toEqual(["two"]);
    const byExistence = await api.listNamespacedPod({ namespace: NS, labelSelector: "tier" });
    expect(byExistence.items.map((pod) => pod.metadata?.name)).toEqual(["one", "two"]);
    expect(Number(byExistence.metadata?.resourceVersion)).toBeGreaterThanOrEqual(Number(created.metadata?.resourceVersion));

    // Not scheduled yet, so it goes at once, whatever the grace period.
    await api.deleteNamespacedPod({ namespace: NS, name: "one", gracePeriodSeconds: 30 });
    expect((await apiError(api.readNamespacedPod({ namespace: NS, name: "one" }))).code).toBe(404);
    expect(standIn.requests().get("create pods")).toBe(3);
    expect(standIn.requests().get("list pods")).toBe(2);
  });

  it("answers 409 AlreadyExists for a duplicate name and 404 for a missing namespace", async () => {
    await api.createNamespacedPod({ namespace: NS, body: simplePod("dup") });
    const error = await apiError(api.createNamespacedPod({ namespace: NS, body: simplePod("dup") }));
    expect(error.code).toBe(409);
    expect(JSON.parse(error.body)).toMatchObject({ kind: "Status", reason: "AlreadyExists", message: 'pods "dup" already exists', details: { name: "dup", kind: "pods" } });
    const missing = await apiError(api.createNamespacedPod({ namespace: "nowhere", body: simplePod("x") }));
    expect(missing.code).toBe(404);
  });

  it("answers 422 Invalid with one cause per field for a pod the server would refuse", async () => {
    const body: V1Pod = {
      metadata: { name: "bad", labels: { ok: "not ok!" } },
      spec: {
        containers: [
          { name: "Main_1", image: "busybox" },
          { name: "b", image: "", volumeMounts: [{ name: "nope", mountPath: "/x" }] },
          { name: "b", image: "busybox", resources: { requests: { cpu: "2" }, limits: { cpu: "1" } } },
        ],
      },
    };
    const error = await apiError(api.createNamespacedPod({ namespace: NS, body }));
    expect(error.code).toBe(422);
    const status = JSON.parse(error.body) as { reason: string; details: { causes: Array<{ field: string; reason: string }> } };
    expect(status.reason).toBe("Invalid");
    expect(status.details.causes.map((cause) => `${cause.field} ${cause.reason}`)).toEqual([
      "metadata.labels FieldValueInvalid",
      "spec.containers[0].name FieldValueInvalid",
      "spec.containers[1].image FieldValueRequired",
      "spec.containers[1].volumeMounts[0].name FieldValueNotFound",
      "spec.containers[2].name FieldValueDuplicate",
      "spec.containers[2].resources.requests FieldValueInvalid",
    ]);
    expect(standIn.pods(NS)).toEqual([]);
  });

  it("checks the schema: a wrong type is a 400, an unknown field a Warning (or a 400 with fieldValidation=Strict)", async () => {
    const wrongType = await raw(`/api/v1/namespaces/${NS}/pods`, { method: "POST", body: JSON.stringify({ metadata: { name: "t" }, spec: { containers: [{ name: "c", image: "x", command: "ls" }] } }) });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { message: string }).message).toContain("spec.containers[0].command");

    const typo = { metadata: { name: "typo" }, spec: { containers: [{ name: "c", image: "x", comand: ["ls"] }] } };
    const strict = await raw(`/api/v1/namespaces/${NS}/pods?fieldValidation=Strict`, { method: "POST", body: JSON.stringify(typo) });
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as { message: string }).message).toContain('unknown field "spec.containers[0].comand"');
    const warned = await raw(`/api/v1/namespaces/${NS}/pods`, { method: "POST", body: JSON.stringify(typo) });
    expect(warned.status).toBe(201);
    expect(warned.headers.get("warning")).toBe('299 - "unknown field \\"spec.containers[0].comand\\""');
    expect(standIn.warnings()).toEqual(['unknown field "spec.containers[0].comand"']);
  });

  it("refuses requests without the bearer token with a 401 Status", async () => {
    const response = await fetch(`${standIn.url}/api/v1/namespaces/${NS}/pods`, { headers: { authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
  });

  it("throttles with 429 and Retry-After, then serves again", async () => {
    standIn.faults.failNext(2, { status: 429, retryAfterSeconds: 3, verb: "list" });
    const first = await apiError(api.listNamespacedPod({ namespace: NS }));
    expect(first.code).toBe(429);
    expect(first.headers["retry-after"]).toBe("3");
    expect(JSON.parse(first.body)).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
    // Other verbs are not throttled by this fault.
    await api.createNamespacedPod({ namespace: NS, body: simplePod("p") });
    expect((await apiError(api.listNamespacedPod({ namespace: NS }))).code).toBe(429);
    expect((await api.listNamespacedPod({ namespace: NS })).items).toHaveLength(1);
    standIn.faults.failNext(1, { status: 500 });
    expect((await apiError(api.readNamespacedPod({ namespace: NS, name: "p" }))).code).toBe(500);
    expect(standIn.requests().get("list pods")).toBe(3);
  });
});

describe("secrets", () => {
  beforeEach(() => start());

  it("stores stringData as base64 data and applies merge and JSON patches", async () => {
    const created = await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "s", labels: { job: "1" } }, stringData: { "step-0.sh": "echo hi" } } });
    expect(created.data).toEqual({ "step-0.sh": Buffer.from("echo hi").toString("base64") });
    expect(created.stringData).toBeUndefined();

    const merged = await api.patchNamespacedSecret({ namespace: NS, name: "s", body: { metadata: { labels: { extra: "yes" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    expect(merged.metadata?.labels).toEqual({ job: "1", extra: "yes" });
    const patched = await api.patchNamespacedSecret({ namespace: NS, name: "s", body: [{ op: "remove", path: "/metadata/labels/extra" }] });
    expect(patched.metadata?.labels).toEqual({ job: "1" });
    const stale = await apiError(api.patchNamespacedSecret({ namespace: NS, name: "s", body: { metadata: { resourceVersion: created.metadata?.resourceVersion } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch)));
    expect(stale.code).toBe(409);
    expect((await api.listNamespacedSecret({ namespace: NS, labelSelector: "job=1" })).items).toHaveLength(1);
    const invalid = await apiError(api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "t" }, stringData: { "bad key": "x" } } }));
    expect(invalid.code).toBe(422);
  });

  it("garbage-collects the secret a deleted pod owns", async () => {
    const pod = await api.createNamespacedPod({ namespace: NS, body: simplePod("owner") });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "owned" }, data: {} } });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "bystander" }, data: {} } });
    const owner = { apiVersion: "v1", kind: "Pod", name: "owner", uid: pod.metadata!.uid!, controller: true };
    const patched: V1Secret = await api.patchNamespacedSecret({ namespace: NS, name: "owned", body: [{ op: "add", path: "/metadata/ownerReferences", value: [owner] }] });
    expect(patched.metadata?.ownerReferences?.[0]?.uid).toBe(pod.metadata?.uid);
    await eventually(() => podOf("owner")?.spec.nodeName, "owner scheduled");

    await api.deleteNamespacedPod({ namespace: NS, name: "owner" });
    await eventually(() => !podOf("owner"), "owner gone");
    await eventually(() => !standIn.secrets(NS).some((secret) => secret.metadata.name === "owned"), "owned secret collected");
    expect(standIn.secrets(NS).map((secret) => secret.metadata.name)).toEqual(["bystander"]);
  });
});

describe("watches", () => {
  beforeEach(() => start({ driver: { run: false } }));

  interface Seen {
    type: string;
    name?: string;
    rv?: string;
    code?: number;
  }

  async function watchPods(query: Record<string, string | boolean>, seen: Seen[], onDone?: (error: unknown) => void): Promise<AbortController> {
    return new Watch(standIn.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/pods`,
      query,
      (type, object: { metadata?: { name?: string; resourceVersion?: string }; code?: number }) => seen.push({ type, name: object.metadata?.name, rv: object.metadata?.resourceVersion, code: object.code }),
      (error) => onDone?.(error),
    );
  }

  it("streams ADDED/MODIFIED/DELETED and resumes from a resourceVersion without losing events", async () => {
    await api.createNamespacedPod({ namespace: NS, body: simplePod("before", { app: "w" }) });
    const seen: Seen[] = [];
    const first = await watchPods({ labelSelector: "app=w" }, seen);
    await api.createNamespacedPod({ namespace: NS, body: simplePod("other") });
    await api.createNamespacedPod({ namespace: NS, body: simplePod("during", { app: "w" }) });
    await eventually(() => seen.length >= 2, "two events");
    first.abort();
    expect(seen.map((event) => `${event.type} ${event.name}`)).toEqual(["ADDED before", "ADDED during"]);

    // Changes while nobody watches, replayed on resume; a label change leaving the selector is a DELETED.
    const resumeFrom = seen[1]!.rv!;
    standIn.driver.setPod(NS, "before", (pod) => (pod.metadata.labels = { app: "gone" }));
    await api.createNamespacedPod({ namespace: NS, body: simplePod("after", { app: "w" }) });
    await api.deleteNamespacedPod({ namespace: NS, name: "during" });
    const resumed: Seen[] = [];
    const second = await watchPods({ labelSelector: "app=w", resourceVersion: resumeFrom }, resumed);
    await eventually(() => resumed.length >= 3, "replayed events");
    second.abort();
    expect(resumed.map((event) => `${event.type} ${event.name}`)).toEqual(["DELETED before", "ADDED after", "DELETED during"]);
  });

  it("sends an ERROR event with a 410 Expired Status when resuming from a compacted resourceVersion", async () => {
    const created = await api.createNamespacedPod({ namespace: NS, body: simplePod("a") });
    await api.createNamespacedPod({ namespace: NS, body: simplePod("b") });
    standIn.faults.compact();
    const seen: Seen[] = [];
    let ended = false;
    await watchPods({ resourceVersion: created.metadata!.resourceVersion! }, seen, () => (ended = true));
    await eventually(() => ended, "watch ended");
    expect(seen).toEqual([{ type: "ERROR", name: undefined, rv: undefined, code: 410 }]);
  });

  it("expires resourceVersions that fell out of the bounded history", async () => {
    await standIn.close();
    await start({ driver: { run: false }, historySize: 3 });
    const first = await api.createNamespacedPod({ namespace: NS, body: simplePod("p0") });
    // Resuming from p0 needs p1..p4; with 3 events kept, p1 is gone.
    for (const name of ["p1", "p2", "p3", "p4"]) await api.createNamespacedPod({ namespace: NS, body: simplePod(name) });
    const seen: Seen[] = [];
    let ended = false;
    await watchPods({ resourceVersion: first.metadata!.resourceVersion! }, seen, () => (ended = true));
    await eventually(() => ended, "watch ended");
    expect(seen.map((event) => event.code)).toEqual([410]);
  });

  it("sends bookmarks with the latest resourceVersion when allowed", async () => {
    const seen: Seen[] = [];
    const plain: Seen[] = [];
    const withBookmarks = await watchPods({ allowWatchBookmarks: true }, seen);
    const without = await watchPods({}, plain);
    await eventually(() => standIn.openWatches() === 2, "both watches open");
    const created = await api.createNamespacedPod({ namespace: NS, body: simplePod("x") });
    await eventually(() => seen.length === 1 && plain.length === 1, "the ADDED event");
    standIn.bookmarkNow();
    await eventually(() => seen.length === 2, "a bookmark");
    withBookmarks.abort();
    without.abort();
    expect(seen[1]).toEqual({ type: "BOOKMARK", name: undefined, rv: created.metadata?.resourceVersion, code: undefined });
    expect(plain.map((event) => event.type)).toEqual(["ADDED"]);
  });

  it("ends a watch cleanly after timeoutSeconds", async () => {
    let done: unknown = "open";
    await watchPods({ timeoutSeconds: "1" }, [], (error) => (done = error));
    await eventually(() => done !== "open", "watch ended");
    expect(done).toBeNull();
  });

  it("deletes a collection by label selector", async () => {
    for (const [name, app] of [["a", "x"], ["b", "x"], ["c", "y"]] as const) await api.createNamespacedPod({ namespace: NS, body: simplePod(name, { app }) });
    await api.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: "app=x" });
    expect(standIn.pods(NS).map((pod) => pod.metadata.name)).toEqual(["c"]);
  });

  it("drops open watches abruptly", async () => {
    const seen: Seen[] = [];
    let done: unknown = "open";
    await watchPods({}, seen, (error) => (done = error));
    await eventually(() => standIn.openWatches() === 1, "watch open");
    expect(standIn.faults.dropWatches()).toBe(1);
    await eventually(() => done !== "open", "watch done");
    expect(standIn.openWatches()).toBe(0);
    expect(standIn.requests().get("watch pods")).toBe(1);
  });
});

describe("logs", () => {
  beforeEach(() => start({ driver: { run: false } }));

  async function runningByHand(name: string): Promise<void> {
    await api.createNamespacedPod({ namespace: NS, body: simplePod(name) });
    standIn.driver.setPod(NS, name, (pod) => {
      pod.spec.nodeName = "node-1";
      pod.status.phase = "Running";
      pod.status.containerStatuses = [{ name: "main", state: { running: { startedAt: "2024-01-01T00:00:00Z" } }, lastState: {}, ready: true, restartCount: 0, image: "busybox:1.36", imageID: "", started: true }];
    });
  }

  function collector(): { stream: Writable; text: () => string; ended: Promise<void> } {
    let text = "";
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString("utf8");
        callback();
      },
    });
    const ended = new Promise<void>((resolve) => stream.on("finish", () => resolve()));
    return { stream, text: () => text, ended };
  }

  it("follows a running container's log with RFC3339Nano timestamps until it terminates", async () => {
    await runningByHand("f");
    standIn.driver.log(NS, "f", "main", "first");
    const out = collector();
    await new Log(standIn.kubeConfig).log(NS, "f", "main", out.stream, { follow: true, timestamps: true });
    await eventually(() => out.text().includes("first"), "the first line");
    standIn.driver.log(NS, "f", "main", "second");
    await eventually(() => out.text().includes("second"), "the followed line");
    standIn.driver.setPod(NS, "f", (pod) => (pod.status.containerStatuses![0]!.state = { terminated: { exitCode: 0, reason: "Completed", finishedAt: "2024-01-01T00:00:01Z" } }));
    await out.ended;
    const lines = out.text().split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((line) => line.split(" ")[1])).toEqual(["first", "second"]);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z /);
  });

  it("applies sinceTime at whole seconds", async () => {
    await runningByHand("s");
    for (const text of ["a", "b", "c"]) standIn.driver.log(NS, "s", "main", text);
    const all = await (await raw(`/api/v1/namespaces/${NS}/pods/s/log?container=main&timestamps=true`)).text();
    const stamp = all.split("\n")[1]!.split(" ")[0]!;
    const second = stamp.slice(0, 19);
    // The end of b's second still includes b: the server truncates sinceTime to the second.
    const since = await (await raw(`/api/v1/namespaces/${NS}/pods/s/log?container=main&timestamps=true&sinceTime=${encodeURIComponent(`${second}.999999999Z`)}`)).text();
    expect(since).toContain(`${stamp} b\n`);
    for (const line of since.trim().split("\n")) expect(line.slice(0, 19) >= second).toBe(true);
    const later = new Date(Date.parse(`${second}Z`) + 1000).toISOString().replace(".000Z", "Z");
    const none = await (await raw(`/api/v1/namespaces/${NS}/pods/s/log?container=main&timestamps=true&sinceTime=${later}`)).text();
    for (const line of none.trim().split("\n").filter((entry) => entry !== "")) expect(line.slice(0, 19) > second).toBe(true);
  });

  it("answers 400 for a container that is waiting to start", async () => {
    await api.createNamespacedPod({ namespace: NS, body: simplePod("w") });
    const unscheduled = await raw(`/api/v1/namespaces/${NS}/pods/w/log?container=main`);
    expect(unscheduled.status).toBe(400);
    standIn.driver.setPod(NS, "w", (pod) => {
      pod.spec.nodeName = "node-1";
      pod.status.containerStatuses = [{ name: "main", state: { waiting: { reason: "ContainerCreating" } }, lastState: {}, ready: false, restartCount: 0, image: "busybox:1.36", imageID: "", started: false }];
    });
    const error = await apiError(new Log(standIn.kubeConfig).log(NS, "w", "main", collector().stream, { follow: true }));
    expect(error.code).toBe(400);
    const response = await raw(`/api/v1/namespaces/${NS}/pods/w/log?container=main`);
    expect(await response.json()).toMatchObject({ reason: "BadRequest", message: 'container "main" in pod "w" is waiting to start: ContainerCreating' });
  });

  it("cuts open log streams in the middle of their next line", async () => {
    await runningByHand("c");
    standIn.driver.log(NS, "c", "main", "whole");
    const received = new Promise<{ text: string; end: string }>((resolve) => {
      let text = "";
      const request = httpRequest(`${standIn.url}/api/v1/namespaces/${NS}/pods/c/log?container=main&follow=true`, { headers: { authorization: `Bearer ${standIn.token}` } }, (response) => {
        response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        response.on("aborted", () => resolve({ text, end: "aborted" }));
        response.on("end", () => resolve({ text, end: "end" }));
      });
      request.end();
    });
    await eventually(() => standIn.openLogStreams() === 1, "stream open");
    expect(standIn.faults.cutLogStreams()).toBe(1);
    standIn.driver.log(NS, "c", "main", "a line that will be cut");
    expect(await received).toEqual({ text: "whole\na line that ", end: "aborted" });
    expect(standIn.openLogStreams()).toBe(0);
  });

  it("drops open log streams between lines", async () => {
    await runningByHand("d");
    const out = collector();
    await new Log(standIn.kubeConfig).log(NS, "d", "main", out.stream, { follow: true });
    await eventually(() => standIn.openLogStreams() === 1, "stream open");
    expect(standIn.faults.dropLogStreams()).toBe(1);
    await eventually(() => standIn.openLogStreams() === 0, "stream dropped");
  });
});

describe("the simulated kubelet", () => {
  beforeEach(() => start({ driver: { transitionMs: 1 } }));

  function protocolPod(name: string, steps: Array<{ onFailure?: boolean }>): V1Pod {
    const mounts = [
      { name: "gust-tools", mountPath: "/gust" },
      { name: "workspace", mountPath: "/workspace" },
      { name: "gust-job", mountPath: "/gust-job", readOnly: true },
    ];
    return {
      metadata: { name, labels: { "app.kubernetes.io/managed-by": "gust" } },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        volumes: [
          { name: "gust-tools", emptyDir: {} },
          { name: "workspace", emptyDir: {} },
          { name: "gust-job", secret: { secretName: name, defaultMode: 0o444 } },
        ],
        initContainers: [{ name: "gust-prepare", image: "gust-helper:1", command: ["gust-runner", "prepare"], volumeMounts: mounts }],
        containers: steps.map((step, index) => ({
          name: `step-${index}`,
          image: "busybox:1.36",
          command: ["/gust/bin/busybox", "sh", "/gust/bin/gust-step"],
          workingDir: "/workspace",
          terminationMessagePolicy: "File",
          volumeMounts: mounts,
          env: [
            { name: "GUST_STEP_INDEX", value: String(index) },
            { name: "GUST_STEP_SCRIPT", value: `/gust-job/step-${index}.sh` },
            { name: "GUST_STEP_WORKDIR", value: "/workspace" },
            { name: "GUST_STEP_CONTINUE_ON_ERROR", value: "0" },
            { name: "GUST_STEP_ON_SUCCESS", value: "1" },
            { name: "GUST_STEP_ON_FAILURE", value: step.onFailure ? "1" : "0" },
            { name: "TOKEN", valueFrom: { secretKeyRef: { name, key: "env.TOKEN" } } },
          ],
        })),
      },
    };
  }

  function message(pod: Pod, container: string): string {
    return pod.status.containerStatuses!.find((entry) => entry.name === container)!.state.terminated!.message!;
  }

  it("runs a 3-step pod whose middle step fails, writing the protocol's termination messages", async () => {
    const pod = await api.createNamespacedPod({ namespace: NS, body: protocolPod("job-1", [{}, {}, {}]) });
    // The kubelet waits for the job Secret's volume until the secret exists.
    await eventually(() => standIn.events(NS).some((event) => event.reason === "FailedMount" && event.involvedObject.name === "job-1"), "FailedMount");
    expect(podOf("job-1")?.status.initContainerStatuses?.[0]?.state.waiting).toBeDefined();
    await api.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "job-1", ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "job-1", uid: pod.metadata!.uid! }] },
        stringData: {
          "step-0.sh": "echo building with $TOKEN\nsleep 0.01\necho 'done: ok'",
          "step-1.sh": "echo about to fail\nfalse\necho not reached",
          "step-2.sh": "echo never",
          "env.TOKEN": "s3cret",
        },
      },
    });
    const done = await eventually(() => (podOf("job-1")?.status.phase === "Failed" ? podOf("job-1") : undefined), "pod Failed");
    expect(done.status.initContainerStatuses![0]!.state.terminated?.exitCode).toBe(0);
    expect(message(done, "step-0")).toMatch(/^status=success exit=0 started=\d+ finished=\d+$/);
    expect(message(done, "step-1")).toMatch(/^status=failure exit=1 started=\d+ finished=\d+$/);
    expect(message(done, "step-2")).toMatch(/^status=skipped exit=- started=- finished=\d+ reason=skipped: an earlier step failed$/);
    expect(done.status.containerStatuses!.map((entry) => [entry.name, entry.state.terminated?.exitCode])).toEqual([
      ["step-0", 0],
      ["step-1", 1],
      ["step-2", 0],
    ]);
    expect(standIn.logLines(NS, "job-1", "step-0")).toEqual(["building with s3cret", "done: ok"]);
    expect(standIn.logLines(NS, "job-1", "step-1")).toEqual(["about to fail"]);
    expect(standIn.logLines(NS, "job-1", "step-2")).toEqual([]);
    const reasons = (await api.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=job-1" })).items.map((event) => event.reason);
    expect(reasons).toEqual(["Scheduled", "FailedMount"]);
  });

  it("runs an on-failure step after a failure", async () => {
    const pod = await api.createNamespacedPod({ namespace: NS, body: protocolPod("job-2", [{}, {}, { onFailure: true }]) });
    await api.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "job-2", ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "job-2", uid: pod.metadata!.uid! }] },
        stringData: { "step-0.sh": "exit 3", "step-1.sh": "echo skipped", "step-2.sh": "echo cleaning up", "env.TOKEN": "t" },
      },
    });
    const done = await eventually(() => (podOf("job-2")?.status.phase === "Failed" ? podOf("job-2") : undefined), "pod Failed");
    expect(message(done, "step-0")).toMatch(/^status=failure exit=3 /);
    expect(message(done, "step-1")).toMatch(/^status=skipped /);
    expect(message(done, "step-2")).toMatch(/^status=success exit=0 /);
    expect(standIn.logLines(NS, "job-2", "step-2")).toEqual(["cleaning up"]);
  });

  it("marks a pod that does not fit the node Unschedulable with a FailedScheduling event", async () => {
    const body = simplePod("huge");
    body.spec!.containers[0]!.resources = { requests: { cpu: "64" } };
    await api.createNamespacedPod({ namespace: NS, body });
    const condition = await eventually(() => podOf("huge")?.status.conditions?.find((entry) => entry.type === "PodScheduled"), "PodScheduled condition");
    expect(condition).toMatchObject({ status: "False", reason: "Unschedulable" });
    expect(podOf("huge")?.status.phase).toBe("Pending");
    const events = await api.listNamespacedEvent({ namespace: NS, fieldSelector: "involvedObject.name=huge,reason=FailedScheduling" });
    expect(events.items).toHaveLength(1);
    expect(events.items[0]?.message).toContain("Insufficient cpu");
  });

  it("alternates ErrImagePull and ImagePullBackOff for an image that does not exist", async () => {
    const reasons = new Set<string>();
    const watch = await new Watch(standIn.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { fieldSelector: "metadata.name=pull" },
      (_type, object: V1Pod) => {
        const reason = object.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason && reason !== "ContainerCreating") reasons.add(reason);
      },
      () => {},
    );
    await api.createNamespacedPod({ namespace: NS, body: { ...simplePod("pull"), spec: { restartPolicy: "Never", containers: [{ name: "main", image: "registry.example/does-not-exist:1" }] } } });
    await eventually(() => reasons.size === 2, "both pull failure reasons");
    watch.abort();
    expect([...reasons].sort()).toEqual(["ErrImagePull", "ImagePullBackOff"]);
    expect(podOf("pull")?.status.phase).toBe("Pending");
    const log = await raw(`/api/v1/namespaces/${NS}/pods/pull/log?container=main`);
    expect(((await log.json()) as { message: string }).message).toBe('container "main" in pod "pull" is waiting to start: trying and failing to pull image');
  });

  it("deletes a running pod gracefully: deletionTimestamp, containers terminated with 143, then gone", async () => {
    await api.createNamespacedPod({ namespace: NS, body: simplePod("long") });
    await eventually(() => podOf("long")?.status.phase === "Running", "pod Running");
    const states: string[] = [];
    const watch = await new Watch(standIn.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { resourceVersion: podOf("long")!.metadata.resourceVersion! },
      (type, object: V1Pod) => states.push(`${type} ${object.metadata?.deletionTimestamp ? "terminating" : "live"} ${object.status?.containerStatuses?.[0]?.state?.terminated?.exitCode ?? "-"}`),
      () => {},
    );
    const answer = await api.deleteNamespacedPod({ namespace: NS, name: "long", gracePeriodSeconds: 5 });
    expect(answer.metadata?.deletionTimestamp).toBeDefined();
    await eventually(() => states.some((state) => state.startsWith("DELETED")), "DELETED event");
    watch.abort();
    expect(states).toEqual(["MODIFIED terminating -", "MODIFIED terminating 143", "DELETED terminating 143"]);
  });

  it("starts services before the steps and stops them through the finish container", async () => {
    const body = protocolPod("job-4", [{}]);
    const step = body.spec!.containers[0]!;
    body.spec!.shareProcessNamespace = true;
    body.spec!.containers = [
      { name: "service-db", image: "postgres:16", ports: [{ containerPort: 5432 }] },
      step,
      { name: "gust-finish", image: "gust-helper:1", command: ["gust-runner", "finish"], volumeMounts: step.volumeMounts, env: [{ name: "GUST_RUNNER_CONFIG", value: "/gust-job/runner.json" }] },
    ];
    await api.createNamespacedPod({ namespace: NS, body });
    const runner = JSON.stringify({ version: 1, lastStep: 0, stopServices: true, artifacts: null, cache: null });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "job-4" }, stringData: { "step-0.sh": "echo migrate", "runner.json": runner, "env.TOKEN": "t" } } });
    const done = await eventually(() => (podOf("job-4")?.status.phase === "Succeeded" ? podOf("job-4") : undefined), "pod Succeeded");
    expect(done.status.containerStatuses!.map((entry) => [entry.name, entry.state.terminated?.exitCode])).toEqual([
      ["gust-finish", 0],
      ["service-db", 0],
      ["step-0", 0],
    ]);
    expect(standIn.logLines(NS, "job-4", "gust-finish")).toEqual(["gust-runner finish: stopping services"]);
  });

  it("cancels the running step when the pod is deleted", async () => {
    await api.createNamespacedPod({ namespace: NS, body: protocolPod("job-5", [{}, {}]) });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "job-5" }, stringData: { "step-0.sh": "echo started\nsleep 30", "step-1.sh": "echo never", "env.TOKEN": "t" } } });
    await eventually(() => standIn.logLines(NS, "job-5", "step-0").length === 1, "step-0 running its script");
    let last: V1Pod | undefined;
    const watch = await new Watch(standIn.kubeConfig).watch(`/api/v1/namespaces/${NS}/pods`, { fieldSelector: "metadata.name=job-5", resourceVersion: podOf("job-5")!.metadata.resourceVersion! }, (type, object: V1Pod) => type === "DELETED" && (last = object), () => {});
    await api.deleteNamespacedPod({ namespace: NS, name: "job-5" });
    const gone = await eventually(() => last, "DELETED event");
    watch.abort();
    const messages = Object.fromEntries(gone.status!.containerStatuses!.map((entry) => [entry.name, entry.state?.terminated?.message]));
    expect(messages["step-0"]).toMatch(/^status=cancelled exit=143 started=\d+ finished=\d+$/);
    expect(messages["step-1"]).toMatch(/^status=cancelled exit=143 started=- finished=\d+$/);
  });

  it("times a step out with status timed-out and exit 124", async () => {
    const body = protocolPod("job-3", [{}]);
    body.spec!.containers[0]!.env!.push({ name: "GUST_STEP_TIMEOUT_MS", value: "20" });
    await api.createNamespacedPod({ namespace: NS, body });
    await api.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "job-3" }, stringData: { "step-0.sh": "echo start\nsleep 5\necho never", "env.TOKEN": "t" } } });
    const done = await eventually(() => (podOf("job-3")?.status.phase === "Failed" ? podOf("job-3") : undefined), "pod Failed");
    expect(message(done, "step-0")).toMatch(/^status=timed-out exit=124 started=\d+ finished=\d+ reason=timed out after 0.02s$/);
    expect(done.status.containerStatuses![0]!.state.terminated?.exitCode).toBe(124);
  });
});
