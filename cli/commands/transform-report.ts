/**
 * How `corrente transform` reports a run, inline or queued alike: one line per model as it
 * ends (failing tests with sample rows), the closing count, and the exit error.
 */
import type { TransformModelOutcome, TransformRunResult } from '../../src/pipeline/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { formatCount } from '../render.js';

function testSummary(o: TransformModelOutcome): string {
  const failed = o.tests.filter((t) => t.failingRows > 0);
  if (o.tests.length === 0) return '-';
  const errors = failed.filter((t) => t.severity === 'error').length;
  const warns = failed.length - errors;
  return `${o.tests.length - failed.length}/${o.tests.length} passed${errors ? `, ${errors} failed` : ''}${warns ? `, ${warns} warned` : ''}`;
}

/** `  started   silver.items`. */
export function startedLine(model: { layer: string; model: string }): string {
  return `  ${'started'.padEnd(10)} ${model.layer}.${model.model}\n`;
}

/** The lines of a finished model: status, rows, time and tests, then failing tests and the error. */
export function outcomeLines(o: TransformModelOutcome): string {
  const rows = o.rows !== undefined ? `${formatCount(o.rows)} rows` : '';
  const q = o.quarantined ? `, ${formatCount(o.quarantined)} quarantined` : '';
  const status = o.status === 'up-to-date' ? 'up to date' : o.status;
  const kept = o.status === 'up-to-date' ? `  (run ${o.runId}: inputs, SQL and options unchanged)` : '';
  let out = `  ${status.padEnd(10)} ${`${o.layer}.${o.model}`.padEnd(32)} ${rows}${q}${o.seconds !== undefined && o.status !== 'up-to-date' ? ` in ${o.seconds.toFixed(1)} s` : ''}  tests: ${testSummary(o)}${kept}${o.pointerMoved === false ? '  (not made current: a run over newer inputs is current)' : ''}\n`;
  for (const t of o.tests.filter((x) => x.failingRows > 0)) {
    out += `      ${t.severity === 'error' ? 'FAILED' : 'warn  '} ${t.name}: ${formatCount(t.failingRows)} row(s), e.g.\n`;
    for (const s of t.sample) out += `        ${s}\n`;
    if (t.audit) out += `        all failing rows: ${t.audit}\n`;
  }
  if (o.status !== 'published' && o.status !== 'up-to-date' && o.error) out += `      ${o.error}\n`;
  return out;
}

/** `done in 3.2 s: 2 published, 3 up to date, 1 failed, 1 skipped`. */
export function summaryLine(result: TransformRunResult): string {
  const count = (s: string): number => result.models.filter((m) => m.status === s).length;
  return `done in ${result.seconds.toFixed(1)} s: ${count('published')} published, ${count('up-to-date')} up to date, ${count('failed')} failed, ${count('skipped')} skipped\n`;
}

/**
 * Prints the result (JSON, or the closing line) and returns the exit code.
 * @throws CorrenteError for the first failed model (`DATA_TEST_FAILED` or `MODEL_FAILED`), counting the others not published.
 */
export function finishRun(result: TransformRunResult, json: boolean | undefined): number {
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(summaryLine(result));
  const failed = result.models.find((m) => m.status === 'failed') ?? result.models.find((m) => m.status === 'skipped');
  if (failed) {
    const others = result.models.filter((m) => m.status === 'failed' || m.status === 'skipped').length - 1;
    throw new CorrenteError(failed.errorCode === 'DATA_TEST_FAILED' ? 'DATA_TEST_FAILED' : 'MODEL_FAILED', `${failed.error ?? `model ${failed.model} ${failed.status}`}${others > 0 ? ` (${others} more model(s) not published)` : ''}`);
  }
  return 0;
}
