/**
 * The state of an incrementally exported table in the lake: a full run plus increments
 * (oldest first), each with its rows and its tombstones (deleted primary keys). The
 * current row of a key is the one in the latest layer holding the key; a key whose latest
 * event is a tombstone is gone. One increment never holds a key both as a row and as a
 * tombstone. These builders are the reference for readers and for the silver merge.
 */
import { quoteIdent, quoteLiteral } from '../shared/table-schema.js';

/** One layer of the state, as local Parquet paths. The first layer is the full run. */
export interface StateLayer {
  files: readonly string[];
  tombstones?: readonly string[];
}

const SEQ = '__corrente_seq';
const DEL = '__corrente_deleted';

function read(files: readonly string[]): string {
  return `read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false)`;
}

/**
 * Every row and tombstone, tagged with its layer (`seq`) and whether it is a deletion;
 * with `only`, just the keys also in that relation (a semi join: cheap for a few keys).
 */
function eventsSql(layers: readonly StateLayer[], select: string, keyList: string, only?: string): string {
  const restrict = only ? ` AS layer SEMI JOIN ${only} USING (${keyList})` : '';
  const parts: string[] = [];
  layers.forEach((layer, seq) => {
    if (layer.files.length > 0) parts.push(`SELECT ${select}, ${seq} AS ${SEQ}, false AS ${DEL} FROM ${read(layer.files)}${restrict}`);
    if (layer.tombstones && layer.tombstones.length > 0) parts.push(`SELECT ${keyList}, ${seq} AS ${SEQ}, true AS ${DEL} FROM ${read(layer.tombstones)}${restrict}`);
  });
  return parts.join(' UNION ALL BY NAME ');
}

/**
 * `SELECT <key columns>` of the keys the state holds now; with `only` (a table or view
 * holding key columns), just those of its keys.
 */
export function liveKeysSql(layers: readonly StateLayer[], keyColumns: readonly string[], only?: string): string {
  const keys = keyColumns.map(quoteIdent).join(', ');
  return `SELECT ${keys} FROM (${eventsSql(layers, keys, keys, only)}) GROUP BY ${keys} HAVING NOT arg_max(${DEL}, ${SEQ})`;
}

/** `SELECT *` of the current rows: latest version per primary key, tombstoned keys removed. */
export function latestRowsSql(layers: readonly StateLayer[], keyColumns: readonly string[]): string {
  const keys = keyColumns.map(quoteIdent).join(', ');
  return (
    `SELECT * EXCLUDE (${SEQ}, ${DEL}, __corrente_rank) FROM (` +
    `SELECT *, row_number() OVER (PARTITION BY ${keys} ORDER BY ${SEQ} DESC) AS __corrente_rank FROM (${eventsSql(layers, '*', keys)})` +
    `) WHERE __corrente_rank = 1 AND NOT ${DEL}`
  );
}
