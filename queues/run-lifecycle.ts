/**
 * A table's life in a run: its states, the moves between them, the timings recorded on
 * the way, and what a failed job does to it. Processors call {@link TableRun}; nothing
 * else writes a table's state (the run store only stores it, see run-store.ts).
 *
 * ```
 *            ┌── retry ◄── exporting, verifying
 *            ▼
 *   queued ──► exporting ◄─► verifying ──► published
 *     │  │      │  ▲ (re-attempt,  │  ▲ (finalize retry)
 *     │  │      │  └─ chunk plan)  │  └─┘
 *     │  ▼      ▼                  ▼
 *     │ skipped failed ◄───────────┘
 *     └───────► failed
 * ```
 * `published`, `failed` and `skipped` are final: nothing moves a table out of them, so a
 * job that runs twice (a stalled job taken by a second worker) or after its table was
 * final is refused with a `RUN_STATE` error and changes nothing. A failure never
 * overwrites a final state either: the first outcome stands. A table whose record was
 * lost (Redis restarted without persistence) takes the next move as it comes.
 */
import { CorrenteError, describeError, isCorrenteError, isRetryable } from '../src/shared/errors.js';
import type { StageSeconds } from '../src/shared/stage-seconds.js';
import { formatTableRef, type TableRef } from '../src/shared/table-schema.js';

/**
 * - `queued`: waiting for an export job (first attempt, or a retry after a transient error);
 * - `exporting`: an export (or its chunk jobs) is reading the table;
 * - `verifying`: staged; the verify (or finalize) job checks and publishes it;
 * - `published`: readers see it (final);
 * - `failed`: gave up; `error` says why (final);
 * - `skipped`: another run was already exporting the table when this one was enqueued (final).
 */
export const TABLE_STATES = ['queued', 'exporting', 'verifying', 'published', 'failed', 'skipped'] as const;
export type TableState = (typeof TABLE_STATES)[number];

/** States nothing moves a table out of. */
export const FINAL_STATES: ReadonlySet<TableState> = new Set(['published', 'failed', 'skipped']);

/** Every allowed move: `TRANSITIONS[from]` lists the states `from` may go to. */
export const TRANSITIONS: Readonly<Record<TableState, readonly TableState[]>> = {
  queued: ['exporting', 'skipped', 'failed'],
  // exporting -> exporting: the next attempt of a job (or a stalled job resumed), and the
  // chunk plan of a large table; -> queued: a transient failure waits for its retry.
  exporting: ['exporting', 'verifying', 'queued', 'failed'],
  // verifying -> verifying: a finalize job retried; -> queued / -> exporting: the export
  // job failed after staging (e.g. queueing the verify job), or its worker died there and
  // the stalled job runs again: exporting again is what queues the verify job.
  verifying: ['verifying', 'queued', 'exporting', 'published', 'failed'],
  published: [],
  failed: [],
  skipped: [],
};

/** What `status` and `migrate --wait` show for one table of a run. */
export interface TableStatus {
  table: TableRef;
  state: TableState;
  rows: number;
  estimatedRows: number;
  bytes: number;
  files: number;
  /** Number of chunk jobs, for a chunked export. */
  chunks?: number;
  /** Seconds spent exporting (set when staged). */
  exportSeconds?: number;
  /** Where the export's time went (see the manifest's `timings.stages`). */
  stages?: StageSeconds;
  /** Most bytes one export job held in its work directory at once (the manifest's `timings.workDiskPeakBytes`). */
  workDiskPeakBytes?: number;
  verifySeconds?: number;
  verification?: 'passed' | 'failed' | 'skipped';
  /** URIs of the published files. */
  uris?: string[];
  checksums?: string[];
  /** Columns stored differently from the previous published run (the manifest's `schemaChanges`). */
  schemaChanges?: SchemaChangeSummary[];
  /** The last failure (kept after a retry succeeds: it tells why attempts > 1). */
  error?: { code: string; message: string };
  /** ISO 8601: last change. */
  updatedAt: string;
  /** ISO 8601: when the latest export attempt started. */
  startedAt?: string;
  attempts?: number;
}

export interface RunStatus {
  runId: string;
  createdAt: string;
  tables: TableStatus[];
}

/** True when every table reached a final state. */
export function isRunFinished(run: RunStatus): boolean {
  return run.tables.every((t) => FINAL_STATES.has(t.state));
}

/** Whether the table may go from `from` to `to`. */
export function canTransition(from: TableState, to: TableState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * Refuses a move the table does not allow.
 * @throws CorrenteError `RUN_STATE` naming the run, the table, and both states.
 */
export function assertTransition(runId: string, table: TableRef, from: TableState, to: TableState): void {
  if (canTransition(from, to)) return;
  const shown = formatTableRef(table);
  const allowed = TRANSITIONS[from];
  throw new CorrenteError('RUN_STATE', `Run ${runId}, table ${shown}: cannot go from ${from} to ${to} (${allowed.length ? `${from} may go to ${allowed.join(', ')}` : `${from} is final`})`, {
    runId,
    table: shown,
    hint: 'A job ran twice or after its table was final; its state was left unchanged',
  });
}

/** The first status of a table: queued, nothing counted yet. */
export function initialStatus(table: TableRef, at: Date): TableStatus {
  return { table, state: 'queued', rows: 0, estimatedRows: -1, bytes: 0, files: 0, updatedAt: at.toISOString() };
}

/** Where a table's status is kept (`RunStore.change`: an atomic read-decide-write). */
export interface StatusStore {
  change(runId: string, table: TableRef, decide: (current: TableStatus | undefined) => TableStatus | undefined): Promise<TableStatus | undefined>;
}

/** What a staged export reports (from its staged manifest). */
export interface StagedSummary {
  rows: number;
  bytes: number;
  files: number;
  exportSeconds: number;
  stages?: StageSeconds | undefined;
  workDiskPeakBytes?: number | undefined;
}

/** A column stored differently from the previous run (as in the manifest, which queues/ does not import). */
export interface SchemaChangeSummary {
  column: string;
  change: string;
  from?: string | undefined;
  to?: string | undefined;
  note?: string | undefined;
}

/** What a published run reports (from its manifest). */
export interface PublishedSummary {
  verification: 'passed' | 'skipped';
  verifySeconds?: number | undefined;
  uris: string[];
  checksums: string[];
  schemaChanges?: SchemaChangeSummary[] | undefined;
}

/** The job steps that can fail; each decides where a table waits for a retry. */
export type JobStep = 'export' | 'chunk' | 'finalize' | 'verify';

/** The attempt counters of a BullMQ job (structurally `Job`). */
export interface JobAttempts {
  attemptsMade: number;
  opts: { attempts?: number | undefined };
}

/** What the failure path decided; the processor logs it and throws `error`. */
export interface JobFailure {
  /** False: BullMQ must not retry (throw it as `UnrecoverableError`). */
  retry: boolean;
  /** No attempt follows: the table failed (unless it was already final). */
  final: boolean;
  /** One line for logs and the table's `error`. */
  message: string;
  code: string;
}

/**
 * Transient errors are retried, and so is any failure of a job cancelled because its
 * worker is shutting down (another worker takes it); a job that hit its own timeout is not.
 */
export function shouldRetry(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return (signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError';
  return isRetryable(err);
}

/** One table of one run: every state change of a table goes through here. */
export class TableRun {
  readonly #store: StatusStore;
  readonly #now: () => Date;
  readonly runId: string;
  readonly table: TableRef;

  constructor(store: StatusStore, runId: string, table: TableRef, options: { now?: () => Date } = {}) {
    this.#store = store;
    this.runId = runId;
    this.table = table;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Moves to `to` (checked against {@link TRANSITIONS}; a function picks it from the
   * current state) and merges `patch`; with `to` undefined, only patches. `skipFrom`
   * states leave the status untouched instead.
   */
  async #move(
    to: TableState | undefined | ((from: TableState) => TableState | undefined),
    patch: Partial<TableStatus> | ((now: string) => Partial<TableStatus>),
    skipFrom: ReadonlySet<TableState> = new Set(),
  ): Promise<TableStatus | undefined> {
    return this.#store.change(this.runId, this.table, (current) => {
      const now = this.#now();
      const base = current ?? initialStatus(this.table, now);
      if (skipFrom.has(base.state)) return undefined;
      const next = typeof to === 'function' ? to(base.state) : to;
      // No record (Redis restarted without persistence): the state is unknown, so the move
      // is taken as it comes rather than refused; the run stays listable.
      if (next !== undefined && current !== undefined) assertTransition(this.runId, this.table, base.state, next);
      const at = now.toISOString();
      return { ...base, ...(typeof patch === 'function' ? patch(at) : patch), state: next ?? base.state, updatedAt: at };
    });
  }

  /** Another run holds the table: queued -> skipped. */
  async skipped(heldByRunId: string | undefined): Promise<void> {
    await this.#move('skipped', { error: { code: 'DUPLICATE', message: `already being exported by run ${heldByRunId ?? '?'}` } });
  }

  /** An export attempt starts (`attempt` counts from 1): -> exporting, `startedAt` now. */
  async exportStarted(attempt: number): Promise<void> {
    await this.#move('exporting', (at) => ({ startedAt: at, attempts: attempt }));
  }

  /** Rows and files so far; ignored unless the table is exporting (progress is fire-and-forget). */
  async exportProgress(progress: { rows: number; estimatedRows: number; files: number }): Promise<void> {
    await this.#move(undefined, progress, new Set(TABLE_STATES.filter((s) => s !== 'exporting')));
  }

  /** A large table was split into `chunks` jobs: stays exporting. */
  async chunksPlanned(chunks: number, estimatedRows: number): Promise<void> {
    await this.#move('exporting', { chunks, estimatedRows });
  }

  /** Every file is uploaded and the staged manifest written: -> verifying. */
  async staged(s: StagedSummary): Promise<void> {
    await this.#move('verifying', {
      rows: s.rows,
      bytes: s.bytes,
      files: s.files,
      exportSeconds: s.exportSeconds,
      ...(s.stages ? { stages: s.stages } : {}),
      ...(s.workDiskPeakBytes !== undefined ? { workDiskPeakBytes: s.workDiskPeakBytes } : {}),
    });
  }

  /** Verified and published: verifying -> published. */
  async published(p: PublishedSummary): Promise<void> {
    await this.#move('published', {
      verification: p.verification,
      ...(p.verifySeconds !== undefined ? { verifySeconds: p.verifySeconds } : {}),
      uris: p.uris,
      checksums: p.checksums,
      ...(p.schemaChanges && p.schemaChanges.length > 0 ? { schemaChanges: p.schemaChanges } : {}),
    });
  }

  /**
   * The failure path of every job step. Decides whether BullMQ may retry and whether this
   * was the last attempt, then records it: the last attempt fails the table (a
   * verification mismatch marks `verification: failed`); an earlier one records the error
   * and, for a table's export job, puts the table back to `queued` until its retry. A
   * table already final is left as it is, and so is everything when the job itself was
   * refused by the lifecycle (`RUN_STATE`: the table belongs to another attempt).
   */
  async jobFailed(step: JobStep, err: unknown, job: JobAttempts, signal?: AbortSignal): Promise<JobFailure> {
    const retry = shouldRetry(err, signal);
    const final = !retry || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const code = isCorrenteError(err) ? err.code : 'INTERNAL';
    const failure: JobFailure = { retry, final, message: describeError(err), code };
    if (code === 'RUN_STATE') return failure;
    const error = { code, message: failure.message };
    if (final) {
      await this.#move('failed', { error, ...(code === 'VERIFY_MISMATCH' ? { verification: 'failed' as const } : {}) }, FINAL_STATES);
    } else {
      // Only a table's own export job queues it again; chunk, finalize and verify retries
      // happen in place (the table stays exporting or verifying).
      await this.#move((from) => (step === 'export' && from !== 'queued' ? 'queued' : undefined), { error }, FINAL_STATES);
    }
    return failure;
  }
}
