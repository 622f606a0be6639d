/**
 * Finds every table with a published run in a bucket, from the `_current.json` pointers
 * (`<schema>/<table>/_current.json`).
 */
import { compareCodeUnits } from '../shared/compare-code-units.js';
import type { ObjectStore } from '../storage/index.js';
import type { TableRef } from '../shared/table-schema.js';
import { readCurrentPointer } from './publish.js';
import type { CurrentPointer } from './manifest.js';

/** A table whose current run readers should use. */
export interface CurrentTable {
  bucket: string;
  table: TableRef;
  pointer: CurrentPointer;
}

/** Inverse of `encodeKeySegment`: `%25`, `%2F`, `%5C` and `%2E` back to their characters. */
export function decodeKeySegment(segment: string): string {
  return segment.replace(/%(25|2F|5C|2E)/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const POINTER = /^([^/]+)\/([^/]+)\/_current\.json$/;

/** Every published table of `bucket`, sorted by schema and name. A missing bucket has none. */
export async function listCurrentTables(store: ObjectStore, bucket: string, signal?: AbortSignal): Promise<CurrentTable[]> {
  const refs: TableRef[] = [];
  try {
    for await (const o of store.list(bucket, '', { signal })) {
      const m = POINTER.exec(o.key);
      if (m) refs.push({ schema: decodeKeySegment(m[1]!), name: decodeKeySegment(m[2]!) });
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'STORAGE_BUCKET_MISSING') return [];
    throw err;
  }
  const out: CurrentTable[] = [];
  for (const table of refs) {
    const pointer = await readCurrentPointer(store, bucket, table, signal);
    if (pointer) out.push({ bucket, table, pointer });
  }
  return out.sort((a, b) => compareCodeUnits(a.table.schema, b.table.schema) || compareCodeUnits(a.table.name, b.table.name));
}
