/**
 * `corrente sql "<query>"`: runs DuckDB over the current run of every published table,
 * each a view named by layer: `bronze."core.fact_demand_daily"`, or `bronze.fact_demand_daily`
 * when the name is unique in the layer. On S3 the files of the tables the query names are
 * downloaded into a local cache kept per run id, bounded like the API's (`api.cacheMb`).
 */
import { currentTablesByLayer, defaultCacheDir, openLakeQuery, trimCache, type LayerTable } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { CorrenteError, coerceError, isCorrenteError } from '../../src/shared/errors.js';
import { formatTableRef } from '../../src/shared/table-schema.js';
import type { CliContext } from '../cli-context.js';

export interface SqlFlags {
  json?: boolean;
  csv?: boolean;
}

/** On S3 a view costs a download, so only tables whose name occurs in the query get one. */
function mentionedIn(query: string): (t: LayerTable) => boolean {
  const q = query.toLowerCase();
  return (t) => q.includes(t.table.name.toLowerCase());
}

export async function sqlCommand(ctx: CliContext, query: string, flags: SqlFlags): Promise<number> {
  if (flags.json && flags.csv) throw new CorrenteError('CONFIG_INVALID', 'Choose one output format', { hint: 'Pass either --json or --csv' });
  const store = createObjectStore(ctx.config.storage);
  const cacheDir = defaultCacheDir(ctx.config.export.workDir);
  try {
    const { session, tables } = await openLakeQuery(store, ctx.config.storage.buckets, {
      cacheDir,
      ...(store.kind === 's3' ? { include: mentionedIn(query) } : {}),
    });
    try {
      const result = await session.query(query).catch((err: unknown) => {
        if (isCorrenteError(err)) throw err;
        const first = coerceError(err).message.split('\n')[0] ?? '';
        const names = tables.slice(0, 6).map((t) => `${t.layer}.${JSON.stringify(formatTableRef(t.table).replace(/"/g, ''))}`);
        throw new CorrenteError('CONFIG_INVALID', `Query failed: ${first}`, {
          hint:
            tables.length === 0
              ? 'Nothing is published yet: run corrente migrate first'
              : `Tables are views named <layer>."<schema>.<table>" (or <layer>.<table> when unique), e.g. ${names.join(', ')}${tables.length > 6 ? ', ...' : ''}`,
        });
      });
      process.stdout.write(flags.json ? renderJson(result) : flags.csv ? renderCsv(result) : renderTable(result));
    } finally {
      session.close();
    }
    if (store.kind === 's3') await trimCache(cacheDir, ctx.config.api.cacheMb * 1024 * 1024, await currentRunIds(store, ctx.config.storage.buckets));
    return 0;
  } finally {
    await store.close();
  }
}

/** Run ids the cache must keep: every table's current run and its increments, read or not by this query. */
async function currentRunIds(store: Parameters<typeof currentTablesByLayer>[0], buckets: Parameters<typeof currentTablesByLayer>[1]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const t of await currentTablesByLayer(store, buckets)) {
    keep.add(t.pointer.runId);
    for (const inc of t.pointer.increments ?? []) keep.add(inc.runId);
  }
  return keep;
}

type Result = { columns: string[]; rows: unknown[][] };

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function renderJson(r: Result): string {
  return `${JSON.stringify(r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i] ?? null]))))}\n`;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = text(v);
  return s === '' || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function renderCsv(r: Result): string {
  return [r.columns.map(csvField), ...r.rows.map((row) => row.map(csvField))].map((l) => `${l.join(',')}\n`).join('');
}

/** An aligned table for people; NULL shown as `NULL`. */
function renderTable(r: Result): string {
  const cells = r.rows.map((row) => row.map((v) => (v === null || v === undefined ? 'NULL' : text(v).replace(/\n/g, '\\n'))));
  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(r.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'})`];
  return `${out.join('\n')}\n`;
}
