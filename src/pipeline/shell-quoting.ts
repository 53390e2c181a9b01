// Where a `${{ }}` sits in shell text decides how its variable must be referenced: inside single
// quotes a `${VAR}` would stay literal, so the quote is closed around it.

export type QuoteState = "none" | "single" | "double";

/** The quoting in force after `text`, starting from `state`. Backslash escapes count; heredocs do not. */
export function quoteStateAfter(text: string, state: QuoteState = "none"): QuoteState {
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (state === "single") {
      if (char === "'") state = "none";
    } else if (char === "\\") {
      i++;
    } else if (char === '"') {
      state = state === "double" ? "none" : "double";
    } else if (char === "'" && state === "none") {
      state = "single";
    }
  }
  return state;
}

/** A reference to `name` that expands to its value, exactly, in the given quoting. */
export function variableReference(name: string, state: QuoteState): string {
  return state === "single" ? `'"\${${name}}"'` : `\${${name}}`;
}
