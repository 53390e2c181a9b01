// Kubernetes resource quantities ("500m", "1.5Gi", "2", "1e3"), parsed exactly: as a whole number
// of nano-units in a bigint, so splitting a job's allowance across containers never loses or
// invents a byte or a millicore to floating point.

const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

// Kubernetes' own grammar, plus an upper-case K: the pipeline schema accepts "4K" for kilobytes and
// Kubernetes would refuse it, so it is read as "k".
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkKMGTPE]))?$/;

export const NANO = 1_000_000_000n;

/** The value of `text` in nano-units (rounded up, as Kubernetes does), or undefined when it is no quantity. */
export function parseQuantity(text: string): bigint | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, number = "", exponent, suffix = ""] = match;
  const [whole = "", fraction = ""] = number.split(".");
  const digits = BigInt(`${whole}${fraction}` || "0");
  let power = 9 - fraction.length; // to nano-units
  let binary = 0;
  if (exponent !== undefined) {
    const e = Number(exponent.slice(1));
    if (Math.abs(e) > 100) return undefined; // absurd, and would build enormous bigints
    power += e;
  } else if (suffix in BINARY_SUFFIX) {
    binary = BINARY_SUFFIX[suffix] ?? 0;
  } else {
    power += DECIMAL_SUFFIX[suffix === "K" ? "k" : suffix] ?? 0;
  }
  const scaled = digits << BigInt(binary);
  if (power >= 0) return scaled * 10n ** BigInt(power);
  const divisor = 10n ** BigInt(-power);
  return (scaled + divisor - 1n) / divisor;
}

/** Millicores as Kubernetes writes them: "2" for whole cores, "250m" otherwise. */
export function formatCpu(millicores: bigint): string {
  return millicores % 1000n === 0n ? String(millicores / 1000n) : `${millicores}m`;
}

/** Bytes in the largest unit that holds them exactly: "1536Mi", "4Gi", "4k", "1000001". */
export function formatMemory(bytes: bigint): string {
  if (bytes === 0n) return "0";
  for (const [suffix, bits] of Object.entries(BINARY_SUFFIX).reverse()) {
    const unit = 1n << BigInt(bits);
    if (bytes % unit === 0n) return `${bytes / unit}${suffix}`;
  }
  for (const [suffix, power] of [["E", 18], ["P", 15], ["T", 12], ["G", 9], ["M", 6], ["k", 3]] as const) {
    const unit = 10n ** BigInt(power);
    if (bytes % unit === 0n) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
