/**
 * "Did you mean ...?" suggestions: the known names closest to a mistyped one by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours, so
 * `fact_demand_dialy` is one edit from `fact_demand_daily`). Case differences count as no
 * distance at all, and are preferred among equally close names.
 */

/** Optimal-string-alignment distance between two strings (Damerau-Levenshtein without re-editing). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The candidates closest to `wanted`: those at the smallest distance (ignoring case), when
 * that distance is small for the name's length (at most 2, or a quarter of its length).
 *
 * @param limit - most suggestions returned. @defaultValue 3
 * @returns best first; empty when nothing is close.
 */
export function closestNames(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const target = wanted.toLowerCase();
  const allowed = Math.max(2, Math.floor(wanted.length / 4));
  let best = Infinity;
  let found: { name: string; exactCase: number }[] = [];
  for (const name of candidates) {
    if (name === wanted || Math.abs(name.length - wanted.length) > allowed) continue;
    const distance = editDistance(target, name.toLowerCase());
    if (distance > allowed || distance > best) continue;
    if (distance < best) {
      best = distance;
      found = [];
    }
    found.push({ name, exactCase: editDistance(wanted, name) });
  }
  return found
    .sort((x, y) => x.exactCase - y.exactCase || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((f) => f.name);
}

/** `a`, `a or b`, `a, b or c`. */
export function joinAlternatives(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}
