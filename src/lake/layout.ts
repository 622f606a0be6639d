/**
 * Where things live in a bucket:
 *
 * ```
 * <schema>/<table>/run-<runId>/part-00000.parquet   data files of one run
 * <schema>/<table>/run-<runId>/_chunks/00000.json   chunked exports: one result per finished chunk
 * <schema>/<table>/run-<runId>/_staged.json         written after upload, before verification
 * <schema>/<table>/run-<runId>/_manifest.json       written last: the run is complete
 * <schema>/<table>/run-<runId>/tombstones.parquet  incremental runs with `deletes: keydiff`: deleted keys
 * <schema>/<table>/run-<runId>/_incremental.json    incremental facts planned before a chunked export
 * <schema>/<table>/_current.json                    pointer to the published run readers use
 * <schema>/<table>/_watermark.json                  incremental tables: where the next window starts
 * ```
 */
import type { TableRef } from '../shared/table-schema.js';

/** The table's pointer to its published run, directly under the table prefix. */
export const CURRENT_FILE = '_current.json';
/** Written last in a run directory: the run is complete. */
export const MANIFEST_FILE = '_manifest.json';
/** Written after upload, before verification. */
export const STAGED_FILE = '_staged.json';
/** Run directories are `run-<runId>/`. */
const RUN_DIR = 'run-';

/**
 * Encodes one name for use as a key segment: `/` and `%` are percent-encoded and the
 * names `.`/`..` are escaped, so any Postgres identifier maps to exactly one safe
 * segment; everything else (spaces, unicode, quotes) is kept readable.
 */
export function encodeKeySegment(name: string): string {
  const s = name.replace(/%/g, '%25').replace(/\//g, '%2F').replace(/\\/g, '%5C');
  return s === '.' || s === '..' ? s.replace(/\./g, '%2E') : s;
}

/** `<schema>/<table>/` */
export function tablePrefix(ref: TableRef): string {
  return `${encodeKeySegment(ref.schema)}/${encodeKeySegment(ref.name)}/`;
}

/** `<schema>/<table>/run-<runId>/` */
export function runPrefix(ref: TableRef, runId: string): string {
  return runPrefixUnder(tablePrefix(ref), runId);
}

/** `<tablePrefix>run-<runId>/`, for code that walks a listing by (encoded) table prefix. */
export function runPrefixUnder(tablePrefix: string, runId: string): string {
  return `${tablePrefix}${RUN_DIR}${runId}/`;
}

export function partKey(ref: TableRef, runId: string, index: number): string {
  return `${runPrefix(ref, runId)}part-${String(index).padStart(5, '0')}.parquet`;
}

/** A file of one chunk of a chunked export: `part-<chunk>-<file>.parquet`. */
export function chunkPartKey(ref: TableRef, runId: string, chunk: number, index: number): string {
  return `${runPrefix(ref, runId)}part-${String(chunk).padStart(5, '0')}-${String(index).padStart(5, '0')}.parquet`;
}

/** Result of one finished chunk: what a retry skips and what the finalizer merges. */
export function chunkResultKey(ref: TableRef, runId: string, chunk: number): string {
  return `${runPrefix(ref, runId)}_chunks/${String(chunk).padStart(5, '0')}.json`;
}

/** Deleted primary keys of an incremental run (`deletes: keydiff`). */
export function tombstonesKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}tombstones.parquet`;
}

/** Incremental facts decided when a chunked export was planned, merged by its finalizer. */
export function incrementalPlanKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}_incremental.json`;
}

/** `<schema>/<table>/_watermark.json`: the last published watermark of an incremental table. */
export function watermarkKey(ref: TableRef): string {
  return `${tablePrefix(ref)}_watermark.json`;
}

export function stagedKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}${STAGED_FILE}`;
}

export function manifestKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}${MANIFEST_FILE}`;
}

export function currentKey(ref: TableRef): string {
  return currentKeyUnder(tablePrefix(ref));
}

/** `<tablePrefix>_current.json` */
export function currentKeyUnder(tablePrefix: string): string {
  return `${tablePrefix}${CURRENT_FILE}`;
}

/** Where a listed key sits in the layout. */
export type KeyPlace =
  /** `<tablePrefix>_current.json` */
  | { kind: 'current'; tablePrefix: string }
  /** Any object under `<tablePrefix>run-<runId>/`; `name` is the rest of the key (may be empty). */
  | { kind: 'run'; tablePrefix: string; runId: string; name: string }
  /** Outside any table pointer or run directory (never touched by gc). */
  | { kind: 'other' };

/** Classifies a key of a bucket listing by the layout above. */
export function placeOfKey(key: string): KeyPlace {
  const segments = key.split('/');
  if (segments.length < 3) return { kind: 'other' };
  const tablePrefix = `${segments[0]}/${segments[1]}/`;
  const third = segments[2]!;
  if (segments.length === 3) return third === CURRENT_FILE ? { kind: 'current', tablePrefix } : { kind: 'other' };
  const runId = third.startsWith(RUN_DIR) ? third.slice(RUN_DIR.length) : '';
  const name = segments.slice(3).join('/');
  // `name` may be empty: a directory marker `run-<id>/` belongs to its run too.
  return runId !== '' ? { kind: 'run', tablePrefix, runId, name } : { kind: 'other' };
}

/** The run id inside a key under a table prefix, if any. */
export function runIdOfKey(key: string): string | undefined {
  return /\/run-([^/]+)\//.exec(key)?.[1];
}
