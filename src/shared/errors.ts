/**
 * The error vocabulary of corrente. Every failure that reaches a user is a
 * {@link CorrenteError}: a stable `code`, a one-line `message` saying what is wrong,
 * a `hint` saying how to fix it, and whether retrying can help.
 */

/** Stable, documented error codes. Tests and callers match on these, never on messages. */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'TABLE_NOT_FOUND',
  'PERMISSION_DENIED',
  'POSTGRES_UNREACHABLE',
  'POSTGRES_AUTH',
  'POSTGRES_QUERY',
  'REDIS_UNREACHABLE',
  'STORAGE_UNREACHABLE',
  'STORAGE_AUTH',
  'STORAGE_BUCKET_MISSING',
  'STORAGE_IO',
  'UNSUPPORTED_VALUE',
  'VERIFY_MISMATCH',
  'RUN_NOT_FOUND',
  /** A table's run state refused a change (a job ran twice, or after its table was final). */
  'RUN_STATE',
  /** A table to create (restore) already exists and replacing it was not asked for. */
  'TABLE_EXISTS',
  /** A SQL model failed to run (syntax, missing column, memory limit). */
  'MODEL_FAILED',
  /** A data test with severity `error` found failing rows: nothing was published. */
  'DATA_TEST_FAILED',
  /** A pipeline task failed: a command exited non-zero, an export or a model of the task did not publish. */
  'TASK_FAILED',
  'ABORTED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes whose cause is transient: a retry with backoff may succeed. */
const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'POSTGRES_UNREACHABLE',
  'REDIS_UNREACHABLE',
  'STORAGE_UNREACHABLE',
  'STORAGE_IO',
]);

/** Context that helps locate a failure; never holds secrets or row data. */
export interface ErrorContext {
  table?: string;
  column?: string;
  runId?: string;
  option?: string;
}

export interface CorrenteErrorOptions extends ErrorContext {
  /** How to fix it, phrased as an instruction. */
  hint?: string;
  cause?: unknown;
  /** Overrides the retryability implied by `code`. */
  retryable?: boolean;
}

export class CorrenteError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: CorrenteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CorrenteError';
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
    const { table, column, runId, option } = options;
    this.context = Object.fromEntries(
      Object.entries({ table, column, runId, option }).filter(([, v]) => v !== undefined),
    );
  }

  /** One line for humans: `message (hint)`. */
  toLine(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }

  /** A plain object that survives JSON (job failure reasons, `--json` output). */
  toJSON(): { code: ErrorCode; message: string; hint?: string; context: ErrorContext } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}), context: this.context };
  }
}

/** Narrowing helper that works across module copies (checks `name` and `code`). */
export function isCorrenteError(err: unknown): err is CorrenteError {
  return err instanceof CorrenteError || (err instanceof Error && err.name === 'CorrenteError' && 'code' in err);
}

/** Normalises anything thrown into an `Error`. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/** Whether a retry can help: transient CorrenteErrors and unknown errors (assumed transient). */
export function isRetryable(err: unknown): boolean {
  return isCorrenteError(err) ? err.retryable : true;
}

/** The one line a user sees for any error. */
export function describeError(err: unknown): string {
  if (isCorrenteError(err)) return err.toLine();
  const e = coerceError(err);
  return e.message.split('\n')[0] ?? e.name;
}
