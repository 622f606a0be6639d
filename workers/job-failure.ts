/**
 * Decides whether a failed job should be retried.
 */
import { isRetryable } from '../src/shared/errors.js';

/**
 * Transient errors are retried, and so is any failure of a job cancelled because its
 * worker is shutting down (another worker takes it); a job that hit its own timeout is not.
 */
export function shouldRetry(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return (signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError';
  return isRetryable(err);
}
