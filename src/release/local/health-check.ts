// Whether a version answers yet: an HTTP GET of its health path (2xx or 3xx is healthy), or a TCP
// connect when the target names no health path. One probe per call; the caller repeats.
import { request } from "node:http";
import { connect } from "node:net";

const PROBE_TIMEOUT_MS = 2000;

export function probe(host: string, port: number, healthPath: string | undefined): Promise<boolean> {
  return healthPath === undefined ? probeTcp(host, port) : probeHttp(host, port, healthPath);
}

function probeTcp(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(PROBE_TIMEOUT_MS);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

function probeHttp(host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: "GET", agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 400);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(false));
    req.end();
  });
}
