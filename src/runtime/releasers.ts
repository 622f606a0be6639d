/**
 * A last-in, first-out list of release steps: what was opened last is closed first, every
 * step runs even when an earlier one throws, and releasing twice is harmless.
 */
import { CorrenteError, coerceError } from '../shared/errors.js';

/** One failed release step, as collected by {@link Releasers.releaseAll}. */
export interface ReleaseFailure {
  readonly name: string;
  readonly error: Error;
}

export interface Releasers {
  /**
   * Adds a release step; steps run in the reverse order of `add`.
   * @throws CorrenteError `INTERNAL` once {@link Releasers.releaseAll} has been called: a
   *   resource opened after that would never be closed.
   */
  add(name: string, release: () => unknown): void;
  /**
   * Runs every step, last added first, each one even when an earlier one threw. Resolves
   * when all succeeded; otherwise rejects with the one error, or with an `AggregateError`
   * (its `errors` in release order, its message naming each step) when several failed.
   * Idempotent: later calls return the same promise.
   */
  releaseAll(): Promise<void>;
  /** True once {@link Releasers.releaseAll} has been called. */
  readonly released: boolean;
}

/**
 * @param onFailure - told about each failed step as it happens (e.g. to log it), before
 *   `releaseAll` reports them together.
 */
export function createReleasers(onFailure?: (failure: ReleaseFailure) => void): Releasers {
  const steps: { name: string; release: () => unknown }[] = [];
  let releasing: Promise<void> | undefined;
  return {
    add(name, release) {
      if (releasing) {
        throw new CorrenteError('INTERNAL', `Cannot register ${name}: its owner is already closed or closing`, {
          hint: 'Open resources before close(), and close once when done',
        });
      }
      steps.push({ name, release });
    },
    releaseAll: () =>
      (releasing ??= (async () => {
        const failures: ReleaseFailure[] = [];
        for (let step = steps.pop(); step; step = steps.pop()) {
          try {
            await step.release();
          } catch (err) {
            const failure = { name: step.name, error: coerceError(err) };
            failures.push(failure);
            onFailure?.(failure);
          }
        }
        if (failures.length === 1) throw failures[0]!.error;
        if (failures.length > 1) {
          throw new AggregateError(
            failures.map((f) => f.error),
            `${failures.length} resources failed to close: ${failures.map((f) => `${f.name}: ${f.error.message.split('\n')[0]}`).join('; ')}`,
          );
        }
      })()),
    get released() {
      return releasing !== undefined;
    },
  };
}
