/**
 * Where things live in a bucket:
 *
 * ```
 * <schema>/<table>/run-<runId>/part-00000.parquet   data files of one run
 * <schema>/<table>/run-<runId>/_chunks/00000.json   chunked exports: one result per finished chunk
 * <schema>/<table>/run-<runId>/_staged.json         written after upload, before verification
 * <schema>/<table>/run-<runId>/_manifest.json       written last: the run is complete
 * <schema>/<table>/_current.json                    pointer to the published run readers use
 * ```
 */
import type { TableRef } from '../shared/table-schema.js';

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
  return `${tablePrefix(ref)}run-${runId}/`;
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

export function stagedKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}_staged.json`;
}

export function manifestKey(ref: TableRef, runId: string): string {
  return `${runPrefix(ref, runId)}_manifest.json`;
}

export function currentKey(ref: TableRef): string {
  return `${tablePrefix(ref)}_current.json`;
}

/** The run id inside a key under a table prefix, if any. */
export function runIdOfKey(key: string): string | undefined {
  return /\/run-([^/]+)\//.exec(key)?.[1];
}
