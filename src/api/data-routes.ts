/**
 * Read-only data routes over the current runs: the table catalog, filtered pages of a
 * table (keyset or offset pagination pinned to one run), CSV/Parquet downloads, and the
 * demand-vs-forecast series of the gold mart. Every response names the run it was read
 * from (headers and ETag).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { QueryPool } from '../duckdb/index.js';
import type { Manifest } from '../lake/index.js';
import { describeLogicalType, quoteLiteral } from '../shared/table-schema.js';
import type { ApiDeps } from './api-types.js';
import type { ServedTable, ServedTables } from './served-tables.js';
import { servedColumns } from './served-tables.js';
import { buildTableQuery, decodeCursor, encodeCursor, RESERVED_PARAMS, type BuiltQuery, type Cursor, type TableRequest } from './table-query.js';

/** Names the run a response was read from; the ETag changes with every publish. */
function versionHeaders(reply: FastifyReply, m: Manifest): void {
  reply.header('ETag', `"${m.runId}"`);
  reply.header('X-Corrente-Run', m.runId);
  reply.header('X-Corrente-Snapshot', m.source.snapshotTime);
}

const pageQuerySchema = {
  type: 'object',
  properties: {
    select: { type: 'string', maxLength: 4096, description: 'Comma-separated columns (default: all)' },
    order: { type: 'string', maxLength: 1024, description: 'Comma-separated `column[.asc|.desc]`; the primary key breaks ties' },
    limit: { type: 'integer', minimum: 1, description: 'Rows per page (default api.defaultPageSize, at most api.maxPageSize)' },
    offset: { type: 'integer', minimum: 0, maximum: 100_000_000 },
    cursor: { type: 'string', maxLength: 8192, description: 'The `next` of the previous page: keeps reading the same run' },
  },
  additionalProperties: { anyOf: [{ type: 'string', maxLength: 65536 }, { type: 'array', items: { type: 'string', maxLength: 65536 }, maxItems: 16 }] },
} as const;

const tableParams = {
  type: 'object',
  required: ['layer', 'name'],
  properties: { layer: { type: 'string', enum: ['bronze', 'silver', 'gold'] }, name: { type: 'string', maxLength: 512 } },
} as const;

type Query = Record<string, string | string[] | number | undefined>;

function tableRequest(query: Query): TableRequest {
  const filters: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(query)) if (!RESERVED_PARAMS.has(k) && v !== undefined) filters[k] = v as string | string[];
  return {
    ...(typeof query.select === 'string' ? { select: query.select } : {}),
    ...(typeof query.order === 'string' ? { order: query.order } : {}),
    ...(typeof query.limit === 'number' ? { limit: query.limit } : {}),
    ...(typeof query.offset === 'number' ? { offset: query.offset } : {}),
    filters,
  };
}

/**
 * A page's rows as JSON text (an array of objects), written straight from DuckDB's row
 * arrays: building an object per row for fastify to stringify again cost a good part of
 * a request's own CPU (bench/README.md, "The API"). Values are already JSON-safe.
 */
function rowsJson(names: readonly string[], indexes: readonly number[], rows: readonly unknown[][], count: number): string {
  const keys = names.map((n, i) => `${i === 0 ? '{' : ','}${JSON.stringify(n)}:`);
  let out = '[';
  for (let r = 0; r < count; r++) {
    const row = rows[r]!;
    if (r > 0) out += ',';
    if (keys.length === 0) out += '{';
    for (let i = 0; i < keys.length; i++) {
      const v = row[indexes[i]!];
      out += keys[i]! + (v === null || v === undefined ? 'null' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : JSON.stringify(v));
    }
    out += '}';
  }
  return `${out}]`;
}

/** The page's rows (JSON text), and the cursor of the next page (null on the last). */
function page(built: BuiltQuery, manifest: Manifest, result: { columns: string[]; rows: unknown[][] }): { rows: string; next: string | null } {
  const more = result.rows.length > built.limit;
  const count = more ? built.limit : result.rows.length;
  const index = new Map(result.columns.map((c, i) => [c, i]));
  const rows = rowsJson(built.columns.map((c) => c.name), built.columns.map((c) => index.get(c.name)!), result.rows, count);
  if (!more) return { rows, next: null };
  const last = result.rows[count - 1]!;
  const cursor: Cursor = built.keyset
    ? { runId: manifest.runId, after: built.order.map((o) => { const v = last[index.get(o.column.name)!]; return v === null || v === undefined ? null : String(v); }) }
    : { runId: manifest.runId, offset: built.offset + built.limit };
  return { rows, next: encodeCursor(cursor) };
}

/** Sends JSON text that is already serialised (fastify passes a string with a JSON type through as is). */
function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

export interface DataRouteDeps {
  api: ApiDeps;
  tables: ServedTables;
  duck: QueryPool;
  /** Observes query seconds (metrics). */
  observeQuery: (route: string, seconds: number) => void;
}

/** Registers the data routes under `/api`. */
export function registerDataRoutes(app: FastifyInstance, deps: DataRouteDeps): void {
  const limits = { defaultPageSize: deps.api.config.defaultPageSize, maxPageSize: deps.api.config.maxPageSize };

  const timed = async <T>(route: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      deps.observeQuery(route, (performance.now() - t0) / 1000);
    }
  };

  /** The run a request reads: the cursor's, else the current one. */
  const runOf = async (table: ServedTable, cursor?: Cursor): Promise<Manifest> => (cursor ? deps.tables.pinned(table, cursor.runId) : table.manifest);

  app.get('/api/tables', { schema: { summary: 'Published tables and models, with schema, rows and run', tags: ['data'] } }, async () => {
    const tables = await deps.tables.list();
    return {
      tables: tables.map((t) => ({
        layer: t.layer,
        name: t.name,
        ...(t.shortName ? { shortName: t.shortName } : {}),
        rows: t.manifest.totals.rows,
        bytes: t.manifest.totals.bytes,
        files: t.manifest.totals.files,
        primaryKey: t.manifest.primaryKey,
        columns: t.manifest.columns.map((c) => ({ name: c.name, type: describeLogicalType(c.type), nullable: c.nullable, ...(c.note ? { note: c.note } : {}) })),
        run: { runId: t.manifest.runId, snapshotTime: t.manifest.source.snapshotTime, publishedAt: t.publishedAt },
      })),
    };
  });

  app.get<{ Params: { layer: string; name: string }; Querystring: Query }>(
    '/api/tables/:layer/:name/rows',
    { schema: { summary: 'A page of a table: filters `col=op.value` (eq, neq, lt, lte, gt, gte, in, is), select, order, limit, cursor', tags: ['data'], params: tableParams, querystring: pageQuerySchema } },
    async (req, reply) => {
      const table = await deps.tables.resolve(req.params.layer, req.params.name);
      const cursor = typeof req.query.cursor === 'string' ? decodeCursor(req.query.cursor) : undefined;
      const manifest = await runOf(table, cursor);
      const files = await deps.tables.files(table.layer, manifest);
      const built = buildTableQuery(files, servedColumns(manifest), manifest.primaryKey, tableRequest(req.query), limits, cursor);
      const result = await timed('rows', () => deps.duck.query(built.sql, built.params));
      versionHeaders(reply, manifest);
      const { rows, next } = page(built, manifest, result);
      const head = JSON.stringify({
        table: table.name,
        layer: table.layer,
        run: { runId: manifest.runId, snapshotTime: manifest.source.snapshotTime },
        columns: built.columns.map((c) => ({ name: c.name, type: describeLogicalType(c.type) })),
      });
      return sendJson(reply, `${head.slice(0, -1)},"rows":${rows},"next":${JSON.stringify(next)}}`);
    },
  );

  app.get<{ Params: { layer: string; name: string }; Querystring: Query }>(
    '/api/tables/:layer/:name/download',
    {
      schema: {
        summary: 'The filtered table as a file (`format=csv|parquet`), streamed',
        tags: ['data'],
        params: tableParams,
        querystring: { ...pageQuerySchema, properties: { ...pageQuerySchema.properties, format: { type: 'string', enum: ['csv', 'parquet'], default: 'csv' }, limit: { type: 'integer', minimum: 1 } } },
      },
    },
    async (req, reply) => {
      const table = await deps.tables.resolve(req.params.layer, req.params.name);
      const manifest = table.manifest;
      const files = await deps.tables.files(table.layer, manifest);
      const format = req.query.format === 'parquet' ? 'parquet' : 'csv';
      const request = tableRequest(req.query);
      // A download is one file: every matching row, or the first `limit`.
      const built = buildTableQuery(files, servedColumns(manifest), manifest.primaryKey, request, limits, undefined, true);
      const dir = await mkdtemp(join(tmpdir(), 'corrente-download-'));
      const path = join(dir, `out.${format}`);
      try {
        const options = format === 'csv' ? '(FORMAT csv, HEADER)' : '(FORMAT parquet, COMPRESSION zstd)';
        await timed('download', () => deps.duck.run(`COPY (${built.sql}) TO ${quoteLiteral(path)} ${options}`, built.params));
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      versionHeaders(reply, manifest);
      const stream = createReadStream(path);
      const cleanup = (): void => void rm(dir, { recursive: true, force: true });
      stream.on('close', cleanup);
      reply.header('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.apache.parquet');
      reply.header('Content-Disposition', `attachment; filename="${table.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.${format}"`);
      return reply.send(stream);
    },
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/api/demand-vs-forecast/keys',
    { schema: { summary: 'The item/site pairs of gold.demand_vs_forecast, the longest series first (for pickers)', tags: ['data'], querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100_000, default: 5000 } }, additionalProperties: false } } },
    async (req, reply) => {
      const table = await deps.tables.resolve('gold', 'demand_vs_forecast');
      const files = await deps.tables.files('gold', table.manifest);
      // The series with the most weeks first: the picker opens on a chart worth reading.
      const sql = `SELECT item_id, site_id FROM read_parquet([${files.map(quoteLiteral).join(', ')}], hive_partitioning = false) GROUP BY ALL ORDER BY count(*) DESC, item_id, site_id LIMIT ${req.query.limit ?? 5000}`;
      const result = await timed('demand-vs-forecast-keys', () => deps.duck.query(sql));
      versionHeaders(reply, table.manifest);
      return { run: { runId: table.manifest.runId }, keys: result.rows.map(([item_id, site_id]) => ({ item_id, site_id })) };
    },
  );

  app.get<{ Querystring: { item_id: number; site_id: number; from?: string; to?: string; model_name?: string } }>(
    '/api/demand-vs-forecast',
    {
      schema: {
        summary: 'Weekly actual demand vs forecast for one item and site (gold.demand_vs_forecast)',
        tags: ['data'],
        querystring: {
          type: 'object',
          required: ['item_id', 'site_id'],
          properties: {
            item_id: { type: 'integer' },
            site_id: { type: 'integer' },
            from: { type: 'string', format: 'date' },
            to: { type: 'string', format: 'date' },
            model_name: { type: 'string', maxLength: 256 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const table = await deps.tables.resolve('gold', 'demand_vs_forecast');
      const files = await deps.tables.files('gold', table.manifest);
      const filters: Record<string, string[]> = { item_id: [`eq.${q.item_id}`], site_id: [`eq.${q.site_id}`] };
      if (q.from) filters.week_start = [`gte.${q.from}`];
      if (q.to) (filters.week_start ??= []).push(`lte.${q.to}`);
      if (q.model_name) filters.model_name = [`eq.${q.model_name}`];
      const built = buildTableQuery(files, servedColumns(table.manifest), [], { filters, order: 'week_start,model_name', limit: deps.api.config.maxPageSize }, limits);
      const result = await timed('demand-vs-forecast', () => deps.duck.query(built.sql, built.params));
      versionHeaders(reply, table.manifest);
      const head = JSON.stringify({ item_id: q.item_id, site_id: q.site_id, run: { runId: table.manifest.runId, snapshotTime: table.manifest.source.snapshotTime } });
      return sendJson(reply, `${head.slice(0, -1)},"rows":${page(built, table.manifest, result).rows}}`);
    },
  );
}
