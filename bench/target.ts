/**
 * One target line of the report: PASS / FAIL against a threshold, SKIP when the
 * measurement it needs did not run.
 */
export interface TargetResult {
  name: string;
  status: 'PASS' | 'FAIL' | 'SKIP';
  actual: number | null;
  threshold: number;
  detail: string;
}

/**
 * @param atMost true when `actual` must be <= `threshold`, false for >=
 * @param detail the figures behind `actual`, or (when it is null) what it needs
 */
export function checkTarget(name: string, threshold: number, actual: number | null, atMost: boolean, detail: string): TargetResult {
  const status = actual === null ? 'SKIP' : (atMost ? actual <= threshold : actual >= threshold) ? 'PASS' : 'FAIL';
  return { name, status, actual, threshold, detail: actual === null ? `needs ${detail}` : detail };
}
