// An HTTP function for Function Compute (custom runtime): answers on $PORT (FC sets FC_SERVER_PORT).
import { createServer } from "node:http";

export function greet(name) {
  return `Hello, ${name || "world"}!`;
}

export function handle(req, res) {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/healthz") {
    res.writeHead(200).end("ok");
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" }).end(greet(url.searchParams.get("name")));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const port = Number(process.env.FC_SERVER_PORT || process.env.PORT || 9000);
  createServer(handle).listen(port, () => console.log(`listening on ${port}`));
}
