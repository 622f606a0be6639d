/**
 * Garbage collection of a lake, applied: lists each bucket, reads the few JSON objects
 * the plan needs, plans with `planGc` (src/lake/gc-plan.ts holds the rules), then
 * removes each planned run after checking it is still garbage, and removes leftovers of
 * interrupted uploads.
 *
 * A removed run's `_manifest.json` is deleted before its other objects, so an
 * interrupted gc leaves a run that looks unfinished (removed by a later gc, once old
 * enough), never a manifest naming missing files.
 */
import { isCorrenteError, type CorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import {
  assertGcOptions,
  currentKeyUnder,
  gcFact,
  gcFactKeys,
  type GcFact,
  MANIFEST_FILE,
  parsePointer,
  planGc,
  pointerRuns,
  runPrefixUnder,
  type KeptNote,
  type PlannedRemoval,
  type RemovalReason,
  type TablePlan,
} from '../lake/index.js';
import { isUnsupportedByServer, type ObjectInfo, type ObjectStore } from '../storage/index.js';

export type { KeptNote, RemovalReason };

export interface GarbageOptions {
  /** Published runs kept per table besides the current one (`export.keepRuns`); at least 1. */
  keepRuns: number;
  /** Unfinished runs are removed only when everything known about them is older than this. */
  olderThanMs: number;
  /** The clock ages are measured against (tests); default: now. */
  now?: Date;
  /** Report what would be removed, remove nothing (stale uploads are left alone too). */
  dryRun?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
}

/** One run removed (or, in a dry run, that would be removed). */
export interface RemovedRun {
  runId: string;
  reason: RemovalReason;
  objects: number;
  bytes: number;
}

export interface TableGarbage {
  bucket: string;
  /** The table's key prefix, `<schema>/<table>/` (names percent-encoded as in keys). */
  prefix: string;
  /** The run `_current.json` names, if any. */
  current: string | undefined;
  /** Runs left in place, oldest first by run id. */
  kept: string[];
  removed: RemovedRun[];
  /** Unfinished or unreadable runs that were kept, with the reason. */
  notes: KeptNote[];
  /** Set when the whole table was left alone (e.g. an unreadable `_current.json`). */
  skipped?: string;
}

/** What happened to interrupted uploads in one bucket. */
export interface BucketUploads {
  bucket: string;
  /** `missing`: the bucket does not exist (nothing to collect). */
  status: 'done' | 'unsupported' | 'dry-run' | 'missing';
  aborted: number;
  /** For `unsupported`: the storage error, one line. */
  detail?: string;
}

export interface GarbageReport {
  dryRun: boolean;
  keepRuns: number;
  olderThanMs: number;
  /** The clock used, ISO 8601. */
  now: string;
  tables: TableGarbage[];
  buckets: BucketUploads[];
  /** Interrupted uploads (S3 multipart uploads, local temp files) removed, all buckets. */
  abortedUploads: number;
  totals: { runs: number; objects: number; bytes: number };
}

/** Collects garbage in every bucket; see the module comment for the rules. */
export async function collectGarbage(store: ObjectStore, buckets: readonly string[], options: GarbageOptions): Promise<GarbageReport> {
  assertGcOptions(options);
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const { signal } = options;
  const logger = options.logger ?? noopLogger;
  const report: GarbageReport = {
    dryRun,
    keepRuns: options.keepRuns,
    olderThanMs: options.olderThanMs,
    now: now.toISOString(),
    tables: [],
    buckets: [],
    abortedUploads: 0,
    totals: { runs: 0, objects: 0, bytes: 0 },
  };

  for (const bucket of [...new Set(buckets)]) {
    const objects: ObjectInfo[] = [];
    try {
      for await (const object of store.list(bucket, '', { signal })) objects.push(object);
    } catch (err) {
      // A layer nobody writes to (e.g. `gold` in a local lake) holds no garbage.
      if (isCorrenteError(err) && err.code === 'STORAGE_BUCKET_MISSING') {
        report.buckets.push({ bucket, status: 'missing', aborted: 0 });
        continue;
      }
      throw err;
    }
    const planOptions = { keepRuns: options.keepRuns, olderThanMs: options.olderThanMs, now };
    const facts = await readFacts(store, bucket, gcFactKeys(objects, planOptions), signal);
    for (const plan of planGc(objects, facts, planOptions)) {
      const result = await applyTablePlan(store, bucket, plan, { dryRun, signal, logger });
      report.tables.push(result);
      for (const r of result.removed) {
        report.totals.runs += 1;
        report.totals.objects += r.objects;
        report.totals.bytes += r.bytes;
      }
    }
    report.buckets.push(await abortUploads(store, bucket, options.olderThanMs, dryRun, signal, logger));
  }
  report.abortedUploads = report.buckets.reduce((n, b) => n + b.aborted, 0);
  return report;
}

async function abortUploads(
  store: ObjectStore,
  bucket: string,
  olderThanMs: number,
  dryRun: boolean,
  signal: AbortSignal | undefined,
  logger: Logger,
): Promise<BucketUploads> {
  if (dryRun) return { bucket, status: 'dry-run', aborted: 0 };
  try {
    const aborted = await store.abortStaleUploads(bucket, olderThanMs, { signal });
    if (aborted > 0) logger.info({ bucket, aborted }, 'aborted stale uploads');
    return { bucket, status: 'done', aborted };
  } catch (err) {
    if (!isUnsupportedByServer(err)) throw err;
    logger.warn({ bucket }, 'object storage cannot list multipart uploads; stale uploads left alone');
    return { bucket, status: 'unsupported', aborted: 0, detail: (err as CorrenteError).message };
  }
}

interface ApplyOptions {
  dryRun: boolean;
  signal?: AbortSignal | undefined;
  logger: Logger;
}

/** Reads at most this many small JSON objects at once. */
const READ_CONCURRENCY = 8;

/** The fact of each key that exists (absent keys are left out: see `GcFacts`). */
async function readFacts(store: ObjectStore, bucket: string, keys: readonly string[], signal: AbortSignal | undefined): Promise<Map<string, GcFact>> {
  const facts = new Map<string, GcFact>();
  let next = 0;
  const reader = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const bytes = await store.getBytes(bucket, key, { signal });
      if (bytes) facts.set(key, gcFact(key, bytes.toString('utf8')));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, reader));
  return facts;
}

async function readPointer(store: ObjectStore, bucket: string, prefix: string, signal: AbortSignal | undefined): Promise<ReturnType<typeof parsePointer>> {
  const bytes = await store.getBytes(bucket, currentKeyUnder(prefix), { signal });
  return parsePointer(bytes?.toString('utf8'));
}

/** Applies one table's plan: removes each planned run that is still garbage, and reports. */
async function applyTablePlan(store: ObjectStore, bucket: string, plan: TablePlan, options: ApplyOptions): Promise<TableGarbage> {
  const result: TableGarbage = { bucket, prefix: plan.prefix, current: plan.current, kept: plan.runIds, removed: [], notes: [...plan.notes] };
  if (plan.skipped !== undefined) return { ...result, skipped: plan.skipped };
  const removed = new Set<string>();
  for (const removal of plan.removals) {
    const outcome = await removeRun(store, bucket, plan.prefix, removal, options);
    if (typeof outcome === 'string') {
      result.notes.push({ runId: removal.runId, note: outcome });
      continue;
    }
    removed.add(removal.runId);
    result.removed.push(outcome);
    options.logger.info(
      { bucket, table: plan.prefix, runId: removal.runId, reason: removal.reason, objects: outcome.objects, bytes: outcome.bytes, dryRun: options.dryRun },
      'run removed',
    );
  }
  result.kept = plan.runIds.filter((id) => !removed.has(id));
  return result;
}

/**
 * Removes one run (manifest first), after checking it is still garbage: the pointer has
 * not moved to it, and an unfinished run has not changed since the first listing.
 * Returns why it was kept instead, as a note.
 */
async function removeRun(store: ObjectStore, bucket: string, prefix: string, run: PlannedRemoval, options: ApplyOptions): Promise<RemovedRun | string> {
  const { signal } = options;
  const { runId, reason } = run;
  if (options.dryRun) {
    return { runId, reason, objects: run.objects.length, bytes: run.objects.reduce((n, o) => n + o.size, 0) };
  }
  const { pointer, error } = await readPointer(store, bucket, prefix, signal);
  if (error !== undefined) return `${error}; not removed`;
  if (pointer && pointerRuns(prefix, pointer).has(runId)) return 'became current during gc';
  const runPrefix = runPrefixUnder(prefix, runId);
  const objects: ObjectInfo[] = [];
  for await (const object of store.list(bucket, runPrefix, { signal })) objects.push(object);
  if (reason === 'unfinished') {
    const before = new Set(run.objects.map((o) => `${o.key}\0${o.size}`));
    if (objects.length !== before.size || objects.some((o) => !before.has(`${o.key}\0${o.size}`))) {
      return 'unfinished, but its objects changed during gc: still being written';
    }
  }
  if (objects.length === 0) return 'already removed by someone else';
  const manifestKey = `${runPrefix}${MANIFEST_FILE}`;
  const keys = objects.map((o) => o.key);
  if (keys.includes(manifestKey)) await store.deleteMany(bucket, [manifestKey], { signal });
  await store.deleteMany(bucket, keys.filter((k) => k !== manifestKey), { signal });
  return { runId, reason, objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
}
