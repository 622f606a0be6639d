/**
 * The HTTP API over a lake built by the shipped models from the sample tables: health,
 * catalog, filtered pages compared with DuckDB over the same files, keyset paging pinned to
 * one run across a publish, downloads, the demand-vs-forecast series, metrics, admin auth,
 * and hostile or wrong input answered with a 4xx JSON error (no SQL built from it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createApiServer, type ApiServer } from '../../src/api/index.js';
import { openDuckSession } from '../../src/duckdb/index.js';
import { currentRun, planTransform, runTransforms } from '../../src/pipeline/index.js';
import { noopLogger } from '../../src/shared/logger.js';
import { S3Store } from '../../src/storage/index.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { startFaultyProxy } from '../helpers/faulty-proxy.js';
import { startS3Server } from '../helpers/s3-server.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
let server: ApiServer;
let base: string;

function apiConfig(overrides: Record<string, unknown> = {}) {
  return loadConfig({ env: {}, file: undefined, overrides: { api: { port: 0, refreshMs: 0, maxPageSize: 500, ...overrides } } }).api;
}

beforeAll(async () => {
  const url = await sampleDatabase('corrente_api_test', 3000);
  t = await createTransformLake(url);
  const result = await runTransforms(t.deps, planTransform(shippedTransformsDir()!), { runId: 'transform-20261129T020000Z-api1' });
  expect(result.models.every((m) => m.status === 'published')).toBe(true);
  server = await createApiServer({ config: apiConfig(), store: t.lake.store, buckets: t.deps.buckets, logger: noopLogger });
  base = (await server.listen()).url;
}, 180_000);

afterAll(async () => {
  await server?.close();
  await t?.close();
});

async function get(path: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // CSV, metrics
  }
  return { status: res.status, body, headers: res.headers };
}

/** Rows of `select` over the current files of a gold model, computed by DuckDB directly. */
async function direct(model: string, select: string): Promise<Record<string, unknown>[]> {
  const m = (await currentRun(t.deps, 'gold', { schema: 'gold', name: model }))!;
  const files = m.files.map((f) => `'${t.lake.store.localPath('gold', f.key)!}'`).join(', ');
  const duck = await openDuckSession({ threads: 1 });
  try {
    return await duck.rows(select.replace('$F', `read_parquet([${files}])`));
  } finally {
    duck.close();
  }
}

describe('API', () => {
  it('GET /health: 200 naming each check with its latency, and the freshness of each gold table', async () => {
    const { status, body } = await get('/health');
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.checks.map((c: { name: string }) => c.name)).toEqual(['duckdb', 'lake', 'redis']);
    for (const c of body.checks) expect(typeof c.ms).toBe('number');
    expect(body.freshness.map((f: { table: string }) => f.table).sort()).toEqual(['gold.demand_vs_forecast', 'gold.dim_item', 'gold.fact_demand_daily', 'gold.fact_forecasts']);
    expect(body.freshness[0].ageSeconds).toBeGreaterThanOrEqual(0);
    expect((await get('/ready')).status).toBe(200);
  });

  it('GET /api/tables: every layer with schema, rows and run', async () => {
    const { body } = await get('/api/tables');
    const mart = body.tables.find((x: { name: string }) => x.name === 'gold.demand_vs_forecast');
    expect(mart).toMatchObject({ layer: 'gold', shortName: 'demand_vs_forecast', run: { runId: 'transform-20261129T020000Z-api1' } });
    expect(mart.columns.find((c: { name: string }) => c.name === 'actual_quantity').type).toBe('DECIMAL(38,3)');
    expect(body.tables.some((x: { layer: string; name: string }) => x.layer === 'bronze' && x.name === 'core.fact_demand_daily')).toBe(true);
  });

  it('filters, selects and orders a page exactly as DuckDB over the same files; names the run', async () => {
    const { item_id } = (await direct('fact_demand_daily', 'SELECT item_id FROM $F GROUP BY 1 ORDER BY count(*) DESC LIMIT 1'))[0]!;
    const q = `/api/tables/gold/fact_demand_daily/rows?item_id=eq.${item_id}&demand_date=gte.2020-01-01&select=demand_id,quantity,demand_date&order=demand_date.desc&limit=500`;
    const { status, body, headers } = await get(q);
    expect(status).toBe(200);
    expect(headers.get('x-corrente-run')).toBe('transform-20261129T020000Z-api1');
    expect(headers.get('etag')).toBe('"transform-20261129T020000Z-api1"');
    const expected = await direct('fact_demand_daily', `SELECT demand_id::VARCHAR AS demand_id, quantity::VARCHAR AS quantity, demand_date::VARCHAR AS demand_date FROM $F WHERE item_id = ${item_id} AND demand_date >= DATE '2020-01-01' ORDER BY demand_date DESC, demand_id`);
    expect(body.rows.map((r: Record<string, unknown>) => ({ demand_id: String(r.demand_id), quantity: r.quantity, demand_date: r.demand_date }))).toEqual(expected);
    expect(body.columns.map((c: { name: string }) => c.name)).toEqual(['demand_id', 'quantity', 'demand_date']);
  });

  it('keyset paging reads every row once and stays on its run when a new one is published', async () => {
    const total = (await direct('fact_demand_daily', 'SELECT count(*)::INTEGER AS n FROM $F'))[0]!.n as number;
    const seen = new Set<string>();
    let next: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any; headers: Headers } = await get(`/api/tables/gold/fact_demand_daily/rows?select=demand_id&limit=400${next ? `&cursor=${next}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-corrente-run')).toBe('transform-20261129T020000Z-api1');
      for (const r of res.body.rows) seen.add(String(r.demand_id));
      next = res.body.next;
      pages++;
      // Half way through, the model is published again (rebuilt: its inputs did not change): the cursor keeps reading the old run.
      if (pages === 2) await runTransforms(t.deps, planTransform(shippedTransformsDir()!, ['fact_demand_daily']), { runId: 'transform-20261129T030000Z-api2', fullRefresh: true });
    } while (next);
    expect(seen.size).toBe(total);
    expect(pages).toBeGreaterThan(2);
    // A new request (no cursor) reads the new run.
    expect((await get('/api/tables/gold/fact_demand_daily/rows?limit=1')).headers.get('x-corrente-run')).toBe('transform-20261129T030000Z-api2');
  });

  it('the demand-vs-forecast series equals the mart rows of that item and site', async () => {
    const keys = (await get('/api/demand-vs-forecast/keys')).body.keys;
    expect(keys.length).toBeGreaterThan(0);
    const { item_id, site_id } = keys[0];
    const { status, body } = await get(`/api/demand-vs-forecast?item_id=${item_id}&site_id=${site_id}`);
    expect(status).toBe(200);
    const expected = await direct('demand_vs_forecast', `SELECT week_start::VARCHAR AS w, model_name, actual_quantity::VARCHAR AS a, forecast_quantity::VARCHAR AS f FROM $F WHERE item_id = ${item_id} AND site_id = ${site_id} ORDER BY week_start, model_name`);
    expect(body.rows.map((r: Record<string, unknown>) => ({ w: r.week_start, model_name: r.model_name, a: r.actual_quantity, f: r.forecast_quantity }))).toEqual(expected);
  });

  it('downloads a filtered table as CSV and as Parquet', async () => {
    const csv = await fetch(`${base}/api/tables/gold/dim_item/download?format=csv&select=item_id&order=item_id&limit=5`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    const ids = await direct('dim_item', 'SELECT item_id::VARCHAR AS id FROM $F ORDER BY item_id LIMIT 5');
    expect(lines).toEqual(['item_id', ...ids.map((r) => r.id)]);
    const parquet = await fetch(`${base}/api/tables/gold/dim_item/download?format=parquet`);
    expect(parquet.status).toBe(200);
    expect(Buffer.from(await parquet.arrayBuffer()).subarray(0, 4).toString()).toBe('PAR1');
  });

  it('GET /metrics: request latency, query durations, per-table freshness and rows', async () => {
    const { status, body } = await get('/metrics');
    expect(status).toBe(200);
    expect(body).toMatch(/corrente_api_request_seconds_bucket\{.*route="\/api\/tables\/:layer\/:name\/rows"/);
    expect(body).toMatch(/corrente_query_seconds_count\{route="rows"\} \d+/);
    expect(body).toMatch(/corrente_table_last_success_timestamp_seconds\{layer="gold",table="gold.demand_vs_forecast"\} \d+/);
    expect(body).toMatch(/corrente_table_rows\{layer="bronze",table="core.fact_demand_daily"\} \d+/);
    expect(body).toMatch(/corrente_transform_seconds_count\{table="gold.demand_vs_forecast"\} 1/);
  });

  it('serves the dashboard and its chart library from the server itself', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script src="\/assets\/uplot\/uPlot.iife.min.js">/);
    expect((await get('/assets/uplot/uPlot.iife.min.js')).status).toBe(200);
    expect((await get('/docs/json')).body.paths['/api/tables/{layer}/{name}/rows']).toBeDefined();
  });
});

describe('API bad input: a 4xx JSON error, never SQL from the request', () => {
  const cases: [string, string, number, RegExp][] = [
    ['an unknown column in a filter', '/api/tables/gold/dim_item/rows?no_such=eq.1', 400, /Unknown column "no_such"/],
    ['SQL in a column name', `/api/tables/gold/dim_item/rows?${encodeURIComponent('item_id" = 1 OR "1')}=eq.1`, 400, /Unknown column/],
    ['SQL in a value', `/api/tables/gold/dim_item/rows?item_id=eq.${encodeURIComponent('1; DROP TABLE x')}`, 400, /not a valid INT32/],
    ['SQL in select', `/api/tables/gold/dim_item/rows?select=${encodeURIComponent('item_id, (SELECT 1)')}`, 400, /Unknown column/],
    ['SQL in order', `/api/tables/gold/dim_item/rows?order=${encodeURIComponent('item_id; SELECT 1')}`, 400, /Unknown column/],
    ['a wrongly typed value', '/api/tables/gold/fact_demand_daily/rows?demand_date=gte.yesterday', 400, /not a valid DATE for column demand_date/],
    ['an unknown operator', '/api/tables/gold/dim_item/rows?item_id=like.1', 400, /Unknown filter/],
    ['a page beyond the maximum', '/api/tables/gold/dim_item/rows?limit=501', 400, /limit 501 is out of range/],
    ['a forged cursor', '/api/tables/gold/dim_item/rows?cursor=bm9wZQ', 400, /Invalid cursor/],
    ['an unknown table', '/api/tables/gold/no_such_table/rows', 404, /No published table "no_such_table" in layer "gold"/],
    ['an unknown layer', '/api/tables/platinum/dim_item/rows', 400, /Invalid request/],
    ['a missing required parameter', '/api/demand-vs-forecast?item_id=1', 400, /site_id/],
  ];
  for (const [what, path, status, message] of cases) {
    it(what, async () => {
      const res = await get(path);
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.message).toMatch(message);
    });
  }

  it('a cursor of a run removed by gc: 410 with the fix', async () => {
    const gone = Buffer.from(JSON.stringify({ runId: 'transform-20200101T000000Z-gone', after: ['1'] })).toString('base64url');
    const res = await get(`/api/tables/gold/fact_demand_daily/rows?cursor=${gone}`);
    expect(res.status).toBe(410);
    expect(res.body.error.hint).toMatch(/without cursor/);
  });

  it('a lake with nothing published: 404 for data, health still 200', async () => {
    const empty = await createApiServer({ config: apiConfig(), store: t.lake.store, buckets: { bronze: 'nope-b', silver: 'nope-s', gold: 'nope-g' }, logger: noopLogger });
    try {
      const url = (await empty.listen()).url;
      const res = await fetch(`${url}/api/demand-vs-forecast?item_id=1&site_id=1`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.hint).toMatch(/Nothing is published in gold yet/);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await empty.close();
    }
  });

  it('object storage down while serving: 503 naming it, and back to 200 when it returns', async () => {
    const s3 = await startS3Server();
    const proxy = await startFaultyProxy({ target: s3.endpoint });
    const store = new S3Store({ endpoint: proxy.url, accessKey: s3.accessKey, secretKey: s3.secretKey, region: 'us-east-1', forcePathStyle: true, createBuckets: true });
    const api = await createApiServer({ config: apiConfig(), store, buckets: t.deps.buckets, logger: noopLogger });
    try {
      const url = (await api.listen()).url;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const outage = proxy.outage(6000, 'reset');
      const down = await fetch(`${url}/health`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as any;
      expect(body.checks.find((c: { name: string }) => c.name === 'lake')).toMatchObject({ ok: false });
      const data = await fetch(`${url}/api/tables`);
      expect(data.status).toBe(503);
      expect(((await data.json()) as any).error.message).toMatch(/object storage|reach/i);
      await outage;
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await api.close();
      await store.close();
      await proxy.close();
      await s3.close();
    }
  });

  it('admin routes need the bearer token when listening beyond localhost', async () => {
    const open = await createApiServer({ config: apiConfig({ host: '0.0.0.0' }), store: t.lake.store, buckets: t.deps.buckets, logger: noopLogger });
    const guarded = await createApiServer({ config: apiConfig({ host: '0.0.0.0', token: 'a-long-enough-secret-token' }), store: t.lake.store, buckets: t.deps.buckets, logger: noopLogger });
    try {
      const u1 = `http://127.0.0.1:${(await open.listen()).port}`;
      const u2 = `http://127.0.0.1:${(await guarded.listen()).port}`;
      expect((await fetch(`${u1}/admin/queues`)).status).toBe(403);
      expect((await fetch(`${u2}/admin/queues`)).status).toBe(401);
      expect((await fetch(`${u2}/admin/queues`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
      // Data routes stay open and read-only.
      expect((await fetch(`${u2}/api/tables`)).status).toBe(200);
    } finally {
      await open.close();
      await guarded.close();
    }
  });
});
