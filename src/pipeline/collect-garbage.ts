/**
 * Garbage collection of a lake: removes superseded published runs and abandoned
 * unfinished runs, and leftovers of interrupted uploads.
 *
 * Rules, per table (`<schema>/<table>/`, found by listing each bucket):
 * - every run named by `_current.json` (its `runId`, and the runs of its `manifestKey`
 *   and `files`) is never touched;
 * - the newest `keepRuns` published runs (with `_manifest.json`) are kept, ordered by the
 *   manifests' `timings.publishedAt` (by run id when one of them lacks it); the current
 *   run counts among them, or is kept in addition when it is older; other published runs
 *   are removed as `superseded`. A run whose manifest cannot be read is kept and reported;
 * - a run directory without `_manifest.json` is unfinished (failed, killed, or still
 *   running). It is removed as `unfinished` only when the newest time known for it is
 *   older than `olderThanMs`. Listings carry no modification time, so the times known are
 *   the run id's leading timestamp (`20261126T105300Z-3f9a`) and every ISO timestamp in
 *   the run's JSON objects (`_staged.json`, `_chunks/<n>.json`, ...). A run with neither
 *   is kept, and the report says why.
 *
 * Every key under `run-<id>/` belongs to that run, whatever its name. A removed run's
 * `_manifest.json` is deleted before its other objects, so an interrupted gc leaves a run
 * that looks unfinished (removed by a later gc, once old enough), never a manifest naming
 * missing files.
 */
import { CorrenteError, isCorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { currentPointerSchema, parseManifest, type CurrentPointer } from '../lake/index.js';
import { isUnsupportedByServer, type ObjectInfo, type ObjectStore } from '../storage/index.js';

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

export type RemovalReason = 'superseded' | 'unfinished';

/** One run removed (or, in a dry run, that would be removed). */
export interface RemovedRun {
  runId: string;
  reason: RemovalReason;
  objects: number;
  bytes: number;
}

/** Why a run that could look like garbage was kept. */
export interface KeptNote {
  runId: string;
  note: string;
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

interface RunObjects {
  runId: string;
  objects: ObjectInfo[];
}

interface TableObjects {
  prefix: string;
  hasCurrent: boolean;
  runs: Map<string, RunObjects>;
}

const MANIFEST_NAME = '_manifest.json';
const CURRENT_NAME = '_current.json';

/** `20261126T105300Z` at the start of a run id, followed by the end or a separator. */
const RUN_ID_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?=$|[-_.])/;
/** An ISO 8601 date-time with an explicit zone, as `toISOString` and the manifest write them. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** The time at the start of a run id, when it has one (see `newRunId`). */
export function runIdTime(runId: string): Date | undefined {
  const m = RUN_ID_TIME.exec(runId);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(ms);
  // Reject 20261399T... rather than let Date roll it over into another day.
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return undefined;
  }
  return date;
}

function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !ISO_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The newest time a JSON document records: any ISO timestamp at any depth, and
 * `startedAt + exportSeconds` where an object has both (a chunk record is written at its
 * end, which only that sum tells). Read generically, so new record formats still count.
 */
export function newestTimestampIn(json: unknown, depth = 0): number | undefined {
  if (depth > 32) return undefined;
  if (json === null || typeof json !== 'object') return isoTime(json);
  let newest: number | undefined;
  const consider = (t: number | undefined): void => {
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
  };
  if (!Array.isArray(json)) {
    const { startedAt, exportSeconds } = json as { startedAt?: unknown; exportSeconds?: unknown };
    const started = isoTime(startedAt);
    if (started !== undefined && typeof exportSeconds === 'number' && Number.isFinite(exportSeconds) && exportSeconds > 0) {
      consider(started + exportSeconds * 1000);
    }
  }
  for (const value of Array.isArray(json) ? json : Object.values(json)) consider(newestTimestampIn(value, depth + 1));
  return newest;
}

function hours(ms: number): string {
  const h = Math.max(0, ms) / 3_600_000;
  return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
}

/** Splits a bucket listing into tables and their runs; keys outside `run-` dirs are not runs. */
function groupByTable(objects: readonly ObjectInfo[]): TableObjects[] {
  const tables = new Map<string, TableObjects>();
  for (const object of objects) {
    const segments = object.key.split('/');
    if (segments.length < 3) continue;
    const prefix = `${segments[0]}/${segments[1]}/`;
    let table = tables.get(prefix);
    const third = segments[2]!;
    const isCurrent = segments.length === 3 && third === CURRENT_NAME;
    const runId = segments.length >= 4 && third.startsWith('run-') ? third.slice('run-'.length) : undefined;
    if (!isCurrent && (runId === undefined || runId === '')) continue;
    if (!table) {
      table = { prefix, hasCurrent: false, runs: new Map() };
      tables.set(prefix, table);
    }
    if (isCurrent) {
      table.hasCurrent = true;
      continue;
    }
    let run = table.runs.get(runId!);
    if (!run) {
      run = { runId: runId!, objects: [] };
      table.runs.set(runId!, run);
    }
    run.objects.push(object);
  }
  return [...tables.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/** The run id of a key `<schema>/<table>/run-<id>/...` under `prefix`, if it is one. */
function runIdUnder(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const third = key.slice(prefix.length).split('/')[0] ?? '';
  return third.startsWith('run-') && key.length > prefix.length + third.length ? third.slice('run-'.length) : undefined;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Collects garbage in every bucket; see the module comment for the rules. */
export async function collectGarbage(store: ObjectStore, buckets: readonly string[], options: GarbageOptions): Promise<GarbageReport> {
  if (!Number.isInteger(options.keepRuns) || options.keepRuns < 1) {
    throw new CorrenteError('CONFIG_INVALID', `keepRuns must be a positive integer, got ${options.keepRuns}`, {
      hint: 'Keep at least one published run per table (export.keepRuns, --keep)',
      option: 'export.keepRuns',
    });
  }
  if (!Number.isFinite(options.olderThanMs) || options.olderThanMs < 0) {
    throw new CorrenteError('CONFIG_INVALID', `olderThanMs must be a non-negative number, got ${options.olderThanMs}`, {
      hint: 'Give the age in hours after which an unfinished run is abandoned (--older-than-hours)',
    });
  }
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
    for (const table of groupByTable(objects)) {
      const result = await collectTable(store, bucket, table, { ...options, now, dryRun, logger });
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

interface TableOptions {
  keepRuns: number;
  olderThanMs: number;
  now: Date;
  dryRun: boolean;
  signal?: AbortSignal | undefined;
  logger: Logger;
}

async function readJson(store: ObjectStore, bucket: string, key: string, signal: AbortSignal | undefined): Promise<{ found: boolean; json?: unknown; bad?: true }> {
  const bytes = await store.getBytes(bucket, key, { signal });
  if (!bytes) return { found: false };
  try {
    return { found: true, json: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch {
    return { found: true, bad: true };
  }
}

/** Every run the pointer refers to: its run id, and the runs of its manifest key and files. */
function pointerRuns(prefix: string, pointer: CurrentPointer): Set<string> {
  const runs = new Set([pointer.runId]);
  for (const key of [pointer.manifestKey, ...pointer.files]) {
    const id = runIdUnder(prefix, key);
    if (id !== undefined) runs.add(id);
  }
  return runs;
}

async function readPointer(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  signal: AbortSignal | undefined,
): Promise<{ pointer?: CurrentPointer; error?: string }> {
  const read = await readJson(store, bucket, `${prefix}${CURRENT_NAME}`, signal);
  if (!read.found) return {};
  const parsed = read.bad ? undefined : currentPointerSchema.safeParse(read.json);
  if (!parsed?.success) return { error: `${CURRENT_NAME} is unreadable, so the current run is unknown; fix or re-publish it` };
  return { pointer: parsed.data };
}

/**
 * The newest time known for an unfinished run: its id's timestamp and every ISO timestamp
 * in its JSON objects. Stops reading as soon as the run is known to be recent.
 */
async function newestKnownTime(
  store: ObjectStore,
  bucket: string,
  run: RunObjects,
  cutoff: number,
  signal: AbortSignal | undefined,
): Promise<number | undefined> {
  let newest = runIdTime(run.runId)?.getTime();
  if (newest !== undefined && newest >= cutoff) return newest;
  // `_staged.json` first: it is written last by an export, so it is the best evidence.
  const jsonKeys = run.objects
    .map((o) => o.key)
    .filter((k) => k.endsWith('.json'))
    .sort((a, b) => Number(b.endsWith('/_staged.json')) - Number(a.endsWith('/_staged.json')));
  for (const key of jsonKeys) {
    const read = await readJson(store, bucket, key, signal);
    const t = read.json === undefined ? undefined : newestTimestampIn(read.json);
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
    if (newest !== undefined && newest >= cutoff) return newest;
  }
  return newest;
}

/** Publication order of published runs, newest first. */
function newestFirst(published: readonly { runId: string; publishedAt: number | undefined }[]): string[] {
  const allDated = published.every((p) => p.publishedAt !== undefined);
  return [...published]
    .sort((a, b) => (allDated ? b.publishedAt! - a.publishedAt! : 0) || compareStrings(b.runId, a.runId))
    .map((p) => p.runId);
}

async function collectTable(store: ObjectStore, bucket: string, table: TableObjects, options: TableOptions): Promise<TableGarbage> {
  const { signal, logger, now } = options;
  const result: TableGarbage = { bucket, prefix: table.prefix, current: undefined, kept: [], removed: [], notes: [] };
  const runIds = [...table.runs.keys()].sort(compareStrings);

  const { pointer, error } = table.hasCurrent ? await readPointer(store, bucket, table.prefix, signal) : {};
  if (error !== undefined) {
    result.kept = runIds;
    result.skipped = error;
    return result;
  }
  result.current = pointer?.runId;
  const protectedRuns = pointer ? pointerRuns(table.prefix, pointer) : new Set<string>();

  const published: { runId: string; publishedAt: number | undefined }[] = [];
  const unfinished: RunObjects[] = [];
  for (const runId of runIds) {
    const run = table.runs.get(runId)!;
    const manifestKey = `${table.prefix}run-${runId}/${MANIFEST_NAME}`;
    if (!run.objects.some((o) => o.key === manifestKey)) {
      unfinished.push(run);
      continue;
    }
    const bytes = await store.getBytes(bucket, manifestKey, { signal });
    if (!bytes) {
      // Removed since the listing (another gc): nothing left to decide about it here.
      result.notes.push({ runId, note: `${MANIFEST_NAME} disappeared during gc: left for the next gc` });
      continue;
    }
    try {
      const manifest = parseManifest(bytes.toString('utf8'), store.uri(bucket, manifestKey));
      const at = manifest.timings.publishedAt === undefined ? Number.NaN : Date.parse(manifest.timings.publishedAt);
      published.push({ runId, publishedAt: Number.isFinite(at) ? at : undefined });
    } catch (err) {
      if (!isCorrenteError(err)) throw err;
      result.notes.push({ runId, note: `${MANIFEST_NAME} is unreadable (${err.message}): left for inspection` });
    }
  }

  // The current run counts among the newest `keepRuns` when it is one of them, and is kept
  // in addition to them when it is not (a late publish of an older snapshot, a rollback).
  const keep = new Set([...newestFirst(published).slice(0, options.keepRuns), ...protectedRuns]);
  const plan: { run: RunObjects; reason: RemovalReason }[] = [];
  for (const p of published) {
    if (!keep.has(p.runId)) plan.push({ run: table.runs.get(p.runId)!, reason: 'superseded' });
  }

  const cutoff = now.getTime() - options.olderThanMs;
  for (const run of unfinished) {
    if (protectedRuns.has(run.runId)) {
      result.notes.push({ runId: run.runId, note: `named by ${CURRENT_NAME} but has no ${MANIFEST_NAME}` });
      continue;
    }
    const newest = await newestKnownTime(store, bucket, run, cutoff, signal);
    if (newest === undefined) {
      result.notes.push({
        runId: run.runId,
        note: 'unfinished, age unknown (no timestamp in its run id or JSON objects): remove it by hand once no export writes to it',
      });
    } else if (newest >= cutoff) {
      result.notes.push({ runId: run.runId, note: `unfinished, newest known time ${hours(now.getTime() - newest)} ago (< ${hours(options.olderThanMs)}): may still be running` });
    } else {
      plan.push({ run, reason: 'unfinished' });
    }
  }

  const removed = new Set<string>();
  for (const { run, reason } of plan.sort((a, b) => compareStrings(a.run.runId, b.run.runId))) {
    const outcome = await removeRun(store, bucket, table.prefix, run, reason, options);
    if (typeof outcome === 'string') {
      result.notes.push({ runId: run.runId, note: outcome });
      continue;
    }
    removed.add(run.runId);
    result.removed.push(outcome);
    logger.info({ bucket, table: table.prefix, runId: run.runId, reason, objects: outcome.objects, bytes: outcome.bytes, dryRun: options.dryRun }, 'run removed');
  }
  result.kept = runIds.filter((id) => !removed.has(id));
  return result;
}

/**
 * Removes one run (manifest first), after checking it is still garbage: the pointer has
 * not moved to it, and an unfinished run has not changed since the first listing.
 * Returns why it was kept instead, as a note.
 */
async function removeRun(
  store: ObjectStore,
  bucket: string,
  prefix: string,
  run: RunObjects,
  reason: RemovalReason,
  options: TableOptions,
): Promise<RemovedRun | string> {
  const { signal } = options;
  const runPrefix = `${prefix}run-${run.runId}/`;
  if (options.dryRun) {
    return { runId: run.runId, reason, objects: run.objects.length, bytes: run.objects.reduce((n, o) => n + o.size, 0) };
  }
  const { pointer, error } = await readPointer(store, bucket, prefix, signal);
  if (error !== undefined) return `${error}; not removed`;
  if (pointer && pointerRuns(prefix, pointer).has(run.runId)) return 'became current during gc';
  const objects: ObjectInfo[] = [];
  for await (const object of store.list(bucket, runPrefix, { signal })) objects.push(object);
  if (reason === 'unfinished') {
    const before = new Set(run.objects.map((o) => `${o.key}\0${o.size}`));
    if (objects.length !== before.size || objects.some((o) => !before.has(`${o.key}\0${o.size}`))) {
      return 'unfinished, but its objects changed during gc: still being written';
    }
  }
  if (objects.length === 0) return 'already removed by someone else';
  const manifestKey = `${runPrefix}${MANIFEST_NAME}`;
  const keys = objects.map((o) => o.key);
  if (keys.includes(manifestKey)) await store.deleteMany(bucket, [manifestKey], { signal });
  await store.deleteMany(bucket, keys.filter((k) => k !== manifestKey), { signal });
  return { runId: run.runId, reason, objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
}
