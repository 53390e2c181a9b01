// Manual-trigger inputs: given values checked against their declaration, defaults filled in.
import type { ManualInput, Scalar } from "./model";
import type { PlanProblem } from "./plan-types";
import { didYouMean } from "./suggest";

export function resolveInputs(
  declared: Record<string, ManualInput>,
  given: Record<string, Scalar>,
  strict: boolean,
): { inputs: Record<string, Scalar>; problems: PlanProblem[] } {
  const inputs: Record<string, Scalar> = {};
  const problems: PlanProblem[] = [];
  for (const [name, value] of Object.entries(given)) {
    const spec = declared[name];
    if (!spec) {
      if (strict) {
        const hint = didYouMean(name, Object.keys(declared));
        problems.push({ path: `on.manual.inputs`, message: `unknown input '${name}'${hint ? ` (${hint})` : ""}` });
      }
      continue;
    }
    const coerced = coerce(spec, value);
    if (coerced === undefined) problems.push({ path: `on.manual.inputs.${name}`, message: `input '${name}' expects ${describe(spec)}, got '${String(value)}'` });
    else inputs[name] = coerced;
  }
  for (const [name, spec] of Object.entries(declared)) {
    // A value that was given but rejected above is reported once, not again as missing.
    if (name in inputs || name in given) continue;
    if (spec.default !== undefined) inputs[name] = spec.default;
    else if (spec.required && strict) problems.push({ path: `on.manual.inputs.${name}`, message: `input '${name}' is required` });
    else inputs[name] = spec.type === "boolean" ? false : "";
  }
  return { inputs, problems };
}

/** CLI and API values arrive as text: turn them into the declared type, or undefined if they don't fit. */
function coerce(spec: ManualInput, value: Scalar): Scalar | undefined {
  const text = String(value);
  switch (spec.type) {
    case "boolean":
      if (typeof value === "boolean") return value;
      return text === "true" ? true : text === "false" ? false : undefined;
    case "number": {
      const number = typeof value === "number" ? value : Number(text);
      return text.trim() !== "" && Number.isFinite(number) ? number : undefined;
    }
    case "choice":
      return spec.options?.find((option) => String(option) === text);
    case "string":
      return text;
  }
}

function describe(spec: ManualInput): string {
  if (spec.type === "choice") return `one of ${(spec.options ?? []).map(String).join(", ")}`;
  return spec.type === "boolean" ? "true or false" : `a ${spec.type}`;
}
