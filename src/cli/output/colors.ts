// ANSI colors on a terminal only: plain with NO_COLOR, when piped, or with TERM=dumb;
// FORCE_COLOR turns them on regardless.

export interface Palette {
  enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  cyan(text: string): string;
  gray(text: string): string;
  /** A stable color per index, to tell parallel jobs apart. */
  cycle(index: number, text: string): string;
}

export function colorsEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY) && env.TERM !== "dumb";
}

export function palette(enabled: boolean): Palette {
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  const cycle = [wrap(36, 39), wrap(35, 39), wrap(34, 39), wrap(33, 39), wrap(32, 39), wrap(96, 39), wrap(95, 39), wrap(94, 39)];
  return {
    enabled,
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
    gray: wrap(90, 39),
    cycle: (index, text) => cycle[index % cycle.length]!(text),
  };
}
