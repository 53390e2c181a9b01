// `gust schema`: the JSON Schema of pipeline files, generated from the zod schema, for editors.
import { pipelineJsonSchema } from "../../pipeline";
import type { CliContext } from "../context";

export function schemaCommand(argv: string[], ctx: CliContext): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    ctx.stdout("Usage: gust schema\n\nPrints the JSON Schema of .gust.yml, e.g. for yaml-language-server:\n  # yaml-language-server: $schema=./gust.schema.json\n");
    return 0;
  }
  ctx.stdout(`${JSON.stringify({ title: "Gust pipeline", ...pipelineJsonSchema() }, null, 2)}\n`);
  return 0;
}
