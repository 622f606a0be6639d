/**
 * Garbage-collection planning: which runs of a bucket can go, decided from a listing and
 * a few small JSON objects, with no storage access (the pipeline's gc step lists, reads
 * the keys {@link gcFactKeys} names, plans, re-checks and deletes).
 *
 * Rules, per table (`<schema>/<table>/`):
 * - every run named by `_current.json` (its `runId`, and the runs of its `manifestKey`
 *   and `files`, and every incremental run in its `increments`) is never removed;
 * - the newest `keepRuns` published runs (with `_manifest.json`) are kept, ordered by the
 *   manifests' `timings.publishedAt` (by run id when one of them lacks it); the current
 *   run counts among them, or is kept in addition when it is older; other published runs
 *   are removed as `superseded`. A run whose manifest cannot be read is kept and noted;
 * - a run directory without `_manifest.json` is unfinished (failed, killed, or still
 *   running). It is removed as `unfinished` only when the newest time known for it is
 *   older than `olderThanMs`. Listings carry no modification time, so the times known are
 *   the time in its run id (every generated kind, see run-id.ts) and every ISO timestamp
 *   in the run's JSON objects (`_staged.json`, `_chunks/<n>.json`, ...). A run with
 *   neither is kept, with a note saying why;
 * - a table whose `_current.json` is unreadable is left alone entirely.
 */
import { compareCodeUnits } from '../shared/compare-code-units.js';
import { CorrenteError } from '../shared/errors.js';
import type { ObjectInfo } from '../storage/index.js';
import { CURRENT_FILE, currentKeyUnder, MANIFEST_FILE, placeOfKey, runPrefixUnder } from './layout.js';
import { currentPointerSchema, parseManifest, type CurrentPointer } from './manifest.js';
import { runIdTime } from './run-id.js';

export interface GcPlanOptions {
  /** Published runs kept per table besides the current one (`export.keepRuns`); at least 1. */
  keepRuns: number;
  /** Unfinished runs are removed only when everything known about them is older than this. */
  olderThanMs: number;
  /** The clock ages are measured against. */
  now: Date;
}

/**
 * What planning needs from one JSON object, reduced by {@link gcFact} as it is read, so a
 * bucket's facts stay small however large its manifests are.
 */
export type GcFact =
  /** `_current.json`: the runs it protects, or why it cannot be used. */
  | { kind: 'pointer'; runId: string; protects: string[] }
  | { kind: 'pointer'; error: string }
  /** `_manifest.json`: when it was published, or why it cannot be read. */
  | { kind: 'manifest'; publishedAt: number | undefined }
  | { kind: 'manifest'; error: string }
  /** Any other JSON object of a run: the newest time it records. */
  | { kind: 'times'; newest: number | undefined };

/**
 * Facts by key for the keys {@link gcFactKeys} named. A key absent from the map was not
 * found (deleted since the listing).
 */
export type GcFacts = ReadonlyMap<string, GcFact>;

export type RemovalReason = 'superseded' | 'unfinished';

/** Why a run that could look like garbage is kept. */
export interface KeptNote {
  runId: string;
  note: string;
}

/** One run to remove, with the objects the listing showed under it. */
export interface PlannedRemoval {
  runId: string;
  reason: RemovalReason;
  objects: ObjectInfo[];
}

/** The plan for one table. */
export interface TablePlan {
  /** The table's key prefix, `<schema>/<table>/` (names percent-encoded as in keys). */
  prefix: string;
  /** The run `_current.json` names, if any. */
  current: string | undefined;
  /** Every run of the table, sorted by run id. */
  runIds: string[];
  /** Runs to remove, sorted by run id. */
  removals: PlannedRemoval[];
  /** Unfinished or unreadable runs kept, with the reason. */
  notes: KeptNote[];
  /** Set when the whole table is left alone (e.g. an unreadable `_current.json`). */
  skipped?: string;
}

interface ListedTable {
  prefix: string;
  hasCurrent: boolean;
  runs: Map<string, ObjectInfo[]>;
}

/**
 * Checks the options a plan needs.
 * @throws CorrenteError `CONFIG_INVALID` naming the option.
 */
export function assertGcOptions(options: Pick<GcPlanOptions, 'keepRuns' | 'olderThanMs'>): void {
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
}

/** Groups a bucket listing into tables and their runs, sorted by prefix; other keys are ignored. */
function groupByTable(listing: readonly ObjectInfo[]): ListedTable[] {
  const tables = new Map<string, ListedTable>();
  for (const object of listing) {
    const place = placeOfKey(object.key);
    if (place.kind === 'other') continue;
    let table = tables.get(place.tablePrefix);
    if (!table) {
      table = { prefix: place.tablePrefix, hasCurrent: false, runs: new Map() };
      tables.set(place.tablePrefix, table);
    }
    if (place.kind === 'current') {
      table.hasCurrent = true;
      continue;
    }
    const objects = table.runs.get(place.runId) ?? [];
    objects.push(object);
    table.runs.set(place.runId, objects);
  }
  return [...tables.values()].sort((a, b) => compareCodeUnits(a.prefix, b.prefix));
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;

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

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The table's pointer from the text of its `_current.json` (undefined: not found), or why
 * it cannot be used.
 */
export function parsePointer(text: string | undefined): { pointer?: CurrentPointer; error?: string } {
  if (text === undefined) return {};
  const parsed = currentPointerSchema.safeParse(parseJson(text));
  if (!parsed.success) return { error: `${CURRENT_FILE} is unreadable, so the current run is unknown; fix or re-publish it` };
  return { pointer: parsed.data };
}

/**
 * Every run a pointer protects: its run id, the runs of its manifest key and files, and
 * every increment applied on top of it (with their files and tombstones).
 */
export function pointerRuns(prefix: string, pointer: CurrentPointer): Set<string> {
  const runs = new Set([pointer.runId, ...(pointer.increments ?? []).map((i) => i.runId)]);
  const incrementKeys = (pointer.increments ?? []).flatMap((i) => [i.manifestKey, ...i.files, ...(i.tombstones ?? [])]);
  for (const key of [pointer.manifestKey, ...pointer.files, ...incrementKeys]) {
    const place = placeOfKey(key);
    if (place.kind === 'run' && place.tablePrefix === prefix) runs.add(place.runId);
  }
  return runs;
}

/** Reduces the text of an object read for planning (see {@link gcFactKeys}) to its fact. */
export function gcFact(key: string, text: string): GcFact {
  const place = placeOfKey(key);
  if (place.kind === 'current') {
    const { pointer, error } = parsePointer(text);
    return pointer ? { kind: 'pointer', runId: pointer.runId, protects: [...pointerRuns(place.tablePrefix, pointer)] } : { kind: 'pointer', error: error! };
  }
  if (place.kind === 'run' && place.name === MANIFEST_FILE) {
    try {
      const at = parseManifest(text, key).timings.publishedAt;
      const ms = at === undefined ? Number.NaN : Date.parse(at);
      return { kind: 'manifest', publishedAt: Number.isFinite(ms) ? ms : undefined };
    } catch (err) {
      return { kind: 'manifest', error: (err as Error).message };
    }
  }
  return { kind: 'times', newest: newestTimestampIn(parseJson(text)) };
}

const manifestKeyOf = (prefix: string, runId: string): string => `${runPrefixUnder(prefix, runId)}${MANIFEST_FILE}`;
const hasManifest = (prefix: string, runId: string, objects: readonly ObjectInfo[]): boolean =>
  objects.some((o) => o.key === manifestKeyOf(prefix, runId));

/**
 * The keys whose facts {@link planGc} needs (read each, reduce it with {@link gcFact}): every table's `_current.json`, every published
 * run's `_manifest.json`, and the JSON objects of unfinished runs whose id does not already
 * show them recent.
 */
export function gcFactKeys(listing: readonly ObjectInfo[], options: GcPlanOptions): string[] {
  const cutoff = options.now.getTime() - options.olderThanMs;
  const keys: string[] = [];
  for (const table of groupByTable(listing)) {
    if (table.hasCurrent) keys.push(currentKeyUnder(table.prefix));
    for (const [runId, objects] of table.runs) {
      if (hasManifest(table.prefix, runId, objects)) {
        keys.push(manifestKeyOf(table.prefix, runId));
        continue;
      }
      const idTime = runIdTime(runId)?.getTime();
      if (idTime !== undefined && idTime >= cutoff) continue;
      for (const o of objects) if (o.key.endsWith('.json')) keys.push(o.key);
    }
  }
  return keys;
}

function hours(ms: number): string {
  const h = Math.max(0, ms) / 3_600_000;
  return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
}

/** Publication order of published runs, newest first. */
function newestFirst(published: readonly { runId: string; publishedAt: number | undefined }[]): string[] {
  const allDated = published.every((p) => p.publishedAt !== undefined);
  return [...published]
    .sort((a, b) => (allDated ? b.publishedAt! - a.publishedAt! : 0) || compareCodeUnits(b.runId, a.runId))
    .map((p) => p.runId);
}

/** The newest time known for an unfinished run: its id's time and every timestamp in its JSON. */
function newestKnownTime(runId: string, objects: readonly ObjectInfo[], facts: GcFacts): number | undefined {
  let newest = runIdTime(runId)?.getTime();
  for (const o of objects) {
    const fact = facts.get(o.key);
    const t = fact?.kind === 'times' ? fact.newest : undefined;
    if (t !== undefined && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

function planTable(table: ListedTable, facts: GcFacts, options: GcPlanOptions): TablePlan {
  const runIds = [...table.runs.keys()].sort(compareCodeUnits);
  const plan: TablePlan = { prefix: table.prefix, current: undefined, runIds, removals: [], notes: [] };
  const pointer = table.hasCurrent ? facts.get(currentKeyUnder(table.prefix)) : undefined;
  if (pointer?.kind === 'pointer' && 'error' in pointer) return { ...plan, skipped: pointer.error };
  const protectedRuns = new Set<string>();
  if (pointer?.kind === 'pointer' && 'runId' in pointer) {
    plan.current = pointer.runId;
    for (const id of pointer.protects) protectedRuns.add(id);
  }

  const published: { runId: string; publishedAt: number | undefined }[] = [];
  const unfinished: string[] = [];
  for (const runId of runIds) {
    if (!hasManifest(table.prefix, runId, table.runs.get(runId)!)) {
      unfinished.push(runId);
      continue;
    }
    const fact = facts.get(manifestKeyOf(table.prefix, runId));
    if (fact?.kind !== 'manifest') {
      // Removed since the listing (another gc): nothing left to decide about it here.
      plan.notes.push({ runId, note: `${MANIFEST_FILE} disappeared during gc: left for the next gc` });
    } else if ('error' in fact) {
      plan.notes.push({ runId, note: `${MANIFEST_FILE} is unreadable (${fact.error}): left for inspection` });
    } else {
      published.push({ runId, publishedAt: fact.publishedAt });
    }
  }

  const removals: PlannedRemoval[] = [];
  // The current run counts among the newest `keepRuns` when it is one of them, and is kept
  // in addition to them when it is not (a late publish of an older snapshot, a rollback).
  const keep = new Set([...newestFirst(published).slice(0, options.keepRuns), ...protectedRuns]);
  for (const p of published) {
    if (!keep.has(p.runId)) removals.push({ runId: p.runId, reason: 'superseded', objects: table.runs.get(p.runId)! });
  }

  const now = options.now.getTime();
  const cutoff = now - options.olderThanMs;
  for (const runId of unfinished) {
    if (protectedRuns.has(runId)) {
      plan.notes.push({ runId, note: `named by ${CURRENT_FILE} but has no ${MANIFEST_FILE}` });
      continue;
    }
    const newest = newestKnownTime(runId, table.runs.get(runId)!, facts);
    if (newest === undefined) {
      plan.notes.push({ runId, note: 'unfinished, age unknown (no timestamp in its run id or JSON objects): remove it by hand once no export writes to it' });
    } else if (newest >= cutoff) {
      plan.notes.push({ runId, note: `unfinished, newest known time ${hours(now - newest)} ago (< ${hours(options.olderThanMs)}): may still be running` });
    } else {
      removals.push({ runId, reason: 'unfinished', objects: table.runs.get(runId)! });
    }
  }
  plan.removals = removals.sort((a, b) => compareCodeUnits(a.runId, b.runId));
  return plan;
}

/**
 * Plans gc for one bucket: per table (sorted by prefix), the runs to remove and why, and
 * the runs kept with a note. Pure: `facts` holds the {@link gcFact} of (at least) the
 * keys {@link gcFactKeys} named for the same listing and options.
 */
export function planGc(listing: readonly ObjectInfo[], facts: GcFacts, options: GcPlanOptions): TablePlan[] {
  assertGcOptions(options);
  return groupByTable(listing).map((table) => planTable(table, facts, options));
}
