// "Did you mean …?" suggestions: optimal-string-alignment (Damerau–Levenshtein) distance.

/** Edits (insert, delete, substitute, swap adjacent) needed to turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Rows i-2, i-1 and i of the dynamic-programming table.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      }
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate closest to `name`, or undefined when none is close. Preferred in this order: a
 * case-only difference, a candidate that starts with the name, then a case-insensitive edit distance
 * of 1, then 2 (and always less than the name's length).
 */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const candidateLower = candidate.toLowerCase();
    const distance = editDistance(lower, candidateLower);
    let score: number;
    if (distance === 0) {
      score = 0; // differs only in case
    } else if (name.length >= 2 && candidateLower.startsWith(lower)) {
      score = 10 + Math.min(candidate.length - name.length, 9);
    } else if (distance <= 2 && distance < name.length) {
      score = distance * 20 + Math.min(editDistance(name, candidate), 9);
    } else {
      continue;
    }
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
