// Latency the local release router adds (src/release/local/local-router.ts). Each piece runs in
// its own process, as in production: two trivial upstreams answering "ok" (the versions), the
// router (Gust) with a stable and a 30% canary so the weighted choice runs, and this process as
// the client. N sequential and M concurrent requests go straight to an upstream and through the
// router, in the same run, over kept-alive connections. Printed: p50/p99 of both, the added
// latency, the ratio, and throughput. Target (DESIGN): the router adds little latency.
import { fork } from "node:child_process";
import { Agent, request } from "node:http";
import { bundleEntries } from "./lib/bundle.mjs";
import { fmt, summarize } from "./lib/stats.mjs";

const SEQUENTIAL = Number(process.env.BENCH_ROUTER_SEQUENTIAL ?? 5_000);
const CONCURRENT = Number(process.env.BENCH_ROUTER_CONCURRENT ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_ROUTER_CONCURRENCY ?? 32);
const WARMUP = 1_000;

const UPSTREAM_ENTRY = `
import { createServer } from "node:http";
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
  res.end("ok");
});
server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
`;

const ROUTER_ENTRY = `
import { LocalRouter } from "./src/release/local/local-router";
import { VersionMetricsRecorder } from "./src/release/local/version-metrics";
process.once("message", async ({ upstreams }) => {
  const router = new LocalRouter({ host: "127.0.0.1", port: 0, metrics: new VersionMetricsRecorder() });
  await router.listen();
  router.setTable(
    { stable: "1", canary: { version: "2", weight: 30 } },
    new Map(upstreams.map((port, index) => [String(index + 1), { host: "127.0.0.1", port }])),
  );
  process.send({ port: router.port });
});
`;

// The floor for any Node proxy: http.request per request over a keep-alive agent, bodies piped,
// nothing else (no choice, no header rewriting, no figures).
const BARE_PROXY_ENTRY = `
import { Agent, createServer, request } from "node:http";
process.once("message", ({ upstreams }) => {
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const forwarded = request({ host: "127.0.0.1", port: upstreams[0], method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forwarded);
  });
  server.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
});
`;

const bundle = await bundleEntries("release-router", { upstream: UPSTREAM_ENTRY, router: ROUTER_ENTRY, bare: BARE_PROXY_ENTRY });
const children = [];
function start(file, message) {
  const child = fork(file, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(child);
  if (message) child.send(message);
  return new Promise((resolve, reject) => {
    child.once("message", ({ port }) => resolve(port));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}
const upstreamPorts = [await start(bundle.files.upstream), await start(bundle.files.upstream)];
const routerPort = await start(bundle.files.router, { upstreams: upstreamPorts });
const barePort = await start(bundle.files.bare, { upstreams: upstreamPorts });

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function get(port) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end();
  });
}

async function sequential(port, count) {
  const latencies = [];
  for (let i = 0; i < count; i++) latencies.push(await get(port));
  return summarize(latencies);
}

async function concurrent(port, count) {
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) latencies.push(await get(port));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ...summarize(latencies), rate: latencies.length / seconds };
}

const targets = { direct: upstreamPorts[0], bare: barePort, router: routerPort };
const results = {};
for (const [name, port] of Object.entries(targets)) {
  await sequential(port, WARMUP);
  results[name] = { sequential: await sequential(port, SEQUENTIAL), concurrent: await concurrent(port, CONCURRENT) };
}

agent.destroy();
for (const child of children) {
  child.removeAllListeners("exit");
  child.kill();
}
bundle.remove();

const ms = (value) => `${fmt(value, 3)} ms`.padStart(10);
function line(label, pick) {
  const [direct, bare, router] = ["direct", "bare", "router"].map((name) => pick(results[name]));
  console.log(
    `  ${label.padEnd(30)} direct ${ms(direct)}  bare proxy ${ms(bare)}  router ${ms(router)}  added ${ms(router - direct)}  ratio ${fmt(router / direct)}× (bare proxy ${fmt(bare / direct)}×)`,
  );
}
console.log("local release router: trivial upstreams; router, bare Node proxy and client in separate processes; kept-alive connections; 30% canary");
line(`${SEQUENTIAL} sequential, p50`, (r) => r.sequential.p50);
line(`${SEQUENTIAL} sequential, p99`, (r) => r.sequential.p99);
line(`${CONCURRENT} at ${CONCURRENCY} at once, p50`, (r) => r.concurrent.p50);
line(`${CONCURRENT} at ${CONCURRENCY} at once, p99`, (r) => r.concurrent.p99);
const rate = (name) => results[name].concurrent.rate;
console.log(
  `  throughput at ${CONCURRENCY} at once:      direct ${rate("direct").toFixed(0)}/s  bare proxy ${rate("bare").toFixed(0)}/s  router ${rate("router").toFixed(0)}/s  router / bare proxy ${fmt(rate("router") / rate("bare"))}×`,
);
