/**
 * Small statistics over the rounds of a measurement.
 */

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `min-max (median)`, e.g. `1.02-1.38 (1.09)`; a single value is printed alone. */
export function spread(xs: readonly number[], digits = 2): string {
  const f = (n: number): string => n.toFixed(digits);
  if (xs.length === 1) return f(xs[0]!);
  return `${f(Math.min(...xs))}-${f(Math.max(...xs))} (${f(median(xs))})`;
}
