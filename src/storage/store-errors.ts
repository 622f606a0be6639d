/**
 * Errors both stores raise the same way, so callers see one vocabulary whatever the
 * backend.
 */
import { CorrenteError } from '../shared/errors.js';

/** The error for an operation cancelled through its `AbortSignal`. */
export function abortedError(what: string, cause?: unknown): CorrenteError {
  return new CorrenteError('ABORTED', `Storage operation aborted: ${what}`, {
    hint: 'The run was cancelled; start it again when ready',
    cause,
  });
}

/** Throws {@link abortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(what, signal.reason);
}

/** Whether `err` is (or was caused by) the firing of `signal`. */
export function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (err as { name?: unknown } | null)?.name === 'AbortError';
}

/** `getFile` of a key that is not there: a caller or gc problem, so retrying cannot help. */
export function missingObjectError(uri: string, cause?: unknown): CorrenteError {
  return new CorrenteError('STORAGE_IO', `Object ${uri} does not exist`, {
    hint: 'It may have been removed by gc or by another run; list the bucket to see what is there',
    cause,
    retryable: false,
  });
}

/** A bucket that is missing where the caller expected it to exist. */
export function bucketMissingError(bucket: string, where: string, hint: string, cause?: unknown): CorrenteError {
  return new CorrenteError('STORAGE_BUCKET_MISSING', `Bucket ${bucket} does not exist at ${where}`, { hint, cause });
}
