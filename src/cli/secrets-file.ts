// Secrets for `gust run`: --secret K=V and a dotenv-style --secrets-file (KEY=VALUE, # comments,
// optional single or double quotes).
import { readFile } from "node:fs/promises";
import { InputError } from "../errors";

export async function readSecretsFile(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`--secrets-file ${path}: ${error.code === "ENOENT" ? "no such file" : error.message}`, "not_found");
  });
  return parseSecrets(text, path);
}

export function parseSecrets(text: string, file: string): Record<string, string> {
  const secrets: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new InputError(`${file}:${index + 1}:1: expected NAME=VALUE`, "invalid_secrets_file");
    let value = match[2]!;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    secrets[match[1]!] = value;
  });
  return secrets;
}
