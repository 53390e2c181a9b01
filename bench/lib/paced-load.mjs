// Open-loop load at an even pace: request i is due at start + i / rate and its latency counts from
// then, so a server (or client) falling behind shows up in the figures. (autocannon's overallRate
// sends each connection's quota for the second back to back at the top of the second: bursts.)
import { Agent, request as httpRequest } from "node:http";
import { quantile } from "./stats.mjs";

/** POSTs `body` to 127.0.0.1:`port``path` with `headers()` (called per request); every answer must be 202. */
export async function pacedLoad({ port, path, rate, seconds, body, headers }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = rate * seconds;
  const latencies = [];
  let failures = 0;
  let sent = 0;
  const start = performance.now();
  await new Promise((resolve) => {
    let done = 0;
    const finish = () => ++done === total && resolve();
    const send = (due) => {
      const request = httpRequest({ host: "127.0.0.1", port, method: "POST", path, agent, headers: { ...headers(), "content-length": Buffer.byteLength(body) } }, (response) => {
        if (response.statusCode !== 202) failures++;
        response.resume();
        response.on("end", () => (latencies.push(performance.now() - due), finish()));
      });
      request.on("error", () => (failures++, finish()));
      request.end(body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + (sent * 1000) / rate <= now) send(start + (sent++ * 1000) / rate);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  if (failures > 0) throw new Error(`paced run: ${failures} failed requests`);
  latencies.sort((a, b) => a - b);
  return { rate: total / ((performance.now() - start) / 1000), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1], answered: total };
}
