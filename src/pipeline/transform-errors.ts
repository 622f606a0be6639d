/**
 * DuckDB failures of a model, as one line naming the model, the file and line, and the fix.
 */
import { CorrenteError, coerceError } from '../shared/errors.js';

/** `file:line` of a DuckDB error's `LINE n:` (lines of the model's SQL match its file). */
function whereOf(message: string, file: string): string {
  const m = /LINE (\d+):/.exec(message);
  return m ? `${file}:${m[1]}` : file;
}

/**
 * Maps an error DuckDB raised while running `what` (e.g. `model fact_demand_daily`).
 * Memory: raise `transform.memoryMb`; missing columns and syntax: fix the SQL. `rename` turns
 * internal relation names back into what the SQL wrote.
 */
export function modelError(err: unknown, what: string, file: string, memoryMb: number, rename: (text: string) => string = (t) => t): CorrenteError {
  const e = coerceError(err);
  if (e instanceof CorrenteError) return e;
  const first = rename((e.message.split('\n')[0] ?? e.message).trim());
  const where = whereOf(e.message, file);
  if (/out of memory/i.test(first)) {
    return new CorrenteError('MODEL_FAILED', `${where}: ${what} ran out of its ${memoryMb} MB memory limit: ${first}`, {
      cause: e,
      option: 'transform.memoryMb',
      hint: 'Raise transform.memoryMb in corrente.yaml, lower transform.threads, or reduce what the query holds at once (fewer columns, pre-aggregate); nothing was published',
    });
  }
  const hint = /^Parser Error/i.test(first)
    ? 'Fix the SQL syntax at that line; nothing was published'
    : /^Binder Error/i.test(first)
      ? 'Fix the column or table name in the SQL (inputs are ref() and source() only); nothing was published'
      : 'Fix the SQL; nothing was published';
  return new CorrenteError('MODEL_FAILED', `${where}: ${what} failed: ${first}`, { cause: e, hint, retryable: false });
}
