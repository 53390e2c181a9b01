// Just enough of the Dockerfile syntax to check deploy/Dockerfile without docker: instructions
// (continuation lines joined, comments dropped), grouped by stage.
export interface Instruction {
  keyword: string;
  /** The text after the keyword. */
  text: string;
  line: number;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(source: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  source.split("\n").forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === "" || trimmed.startsWith("#"))) return;
    // A comment line inside a continued instruction is dropped, as docker does.
    if (pending !== undefined && trimmed.startsWith("#")) return;
    const continued = trimmed.endsWith("\\");
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === undefined ? { text: part, line: index + 1 } : { text: `${pending.text} ${part}`.trim(), line: pending.line };
    if (continued) return;
    const match = /^(\S+)\s*(.*)$/.exec(pending.text)!;
    instructions.push({ keyword: match[1]!.toUpperCase(), text: match[2]!, line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`line ${(pending as { line: number }).line}: the file ends inside a continued instruction`);

  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.text);
      if (!from) throw new Error(`line ${instruction.line}: cannot read FROM ${instruction.text}`);
      stages.push({ image: from[1]!, ...(from[2] ? { name: from[2] } : {}), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** The JSON (exec) form of ENTRYPOINT, CMD or RUN; undefined for the shell form. */
export function execForm(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface Copy {
  from?: string;
  sources: string[];
  destination: string;
}

export function parseCopy(text: string): Copy {
  const words = text.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) from = flag.slice("--from=".length);
  }
  const destination = words.pop();
  if (destination === undefined || words.length === 0) throw new Error(`COPY ${text}: needs a source and a destination`);
  return { ...(from === undefined ? {} : { from }), sources: words, destination };
}
