/**
 * What changed in a table's stored columns since the previous published run: a column
 * added or removed, or stored as another type (e.g. an array column that now holds
 * values a LIST cannot represent, and so became text). Readers of the lake see these as
 * schema changes, so the manifest lists them.
 */
import type { Manifest, SchemaChange } from './manifest.js';

type Columns = Manifest['columns'];

/** Differences between the previous run's columns and the new ones, in the new column order. */
export function diffColumns(previous: Columns, next: Columns): SchemaChange[] {
  const before = new Map(previous.map((c) => [c.name, c]));
  const after = new Set(next.map((c) => c.name));
  const out: SchemaChange[] = [];
  for (const col of next) {
    const old = before.get(col.name);
    if (!old) out.push({ column: col.name, change: 'added', to: col.parquetType });
    else if (old.parquetType !== col.parquetType) out.push({ column: col.name, change: 'type', from: old.parquetType, to: col.parquetType, ...(col.note ? { note: col.note } : {}) });
  }
  for (const col of previous) if (!after.has(col.name)) out.push({ column: col.name, change: 'removed', from: col.parquetType });
  return out;
}
