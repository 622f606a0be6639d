/**
 * Operations routes: `/health` (each part checked, with latency, plus the freshness of
 * every gold table), `/ready`, `/metrics` (Prometheus), and the JSON the dashboard shows
 * (recent runs, the transform DAG).
 */
import type { FastifyInstance } from 'fastify';
import type { QueryPool } from '../duckdb/index.js';
import { coerceError } from '../shared/errors.js';
import type { ApiDeps } from './api-types.js';
import type { ApiMetrics } from './metrics.js';
import type { ServedTables } from './served-tables.js';

interface Check {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

/** Runs one check with a time bound: a hung dependency answers "down", never a hung request. */
async function check(name: string, fn: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { name, ok: true, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { name, ok: false, ms: Math.round(performance.now() - t0), error: coerceError(err).message };
  } finally {
    clearTimeout(timer);
  }
}

export interface OpsRouteDeps {
  api: ApiDeps;
  tables: ServedTables;
  duck: QueryPool;
  metrics: ApiMetrics;
}

export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get('/health', { schema: { summary: '200 when DuckDB, the lake and Redis answer, else 503; freshness of each gold table', tags: ['ops'] } }, async (_req, reply) => {
    const checks = await Promise.all([
      check('duckdb', () => deps.duck.query('SELECT 1')),
      check('lake', () => deps.tables.list()),
      deps.api.queues ? check('redis', () => deps.api.queues!.ping()) : Promise.resolve<Check>({ name: 'redis', ok: true, ms: 0, error: 'not configured' }),
    ]);
    const ok = checks.every((c) => c.ok);
    const now = Date.now();
    const gold = ok || checks.find((c) => c.name === 'lake')?.ok ? (await deps.tables.list().catch(() => [])).filter((t) => t.layer === 'gold') : [];
    reply.code(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'unavailable',
      checks,
      freshness: gold.map((t) => ({
        table: t.name,
        runId: t.manifest.runId,
        publishedAt: t.publishedAt,
        ageSeconds: Math.round((now - Date.parse(t.publishedAt)) / 1000),
      })),
    };
  });

  app.get('/ready', { schema: { summary: '200 once the server is started and its DuckDB answers', tags: ['ops'] } }, async (_req, reply) => {
    const duck = await check('duckdb', () => deps.duck.query('SELECT 1'));
    reply.code(duck.ok ? 200 : 503);
    return { ready: duck.ok };
  });

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('Content-Type', deps.metrics.contentType);
    return deps.metrics.render();
  });

  app.get('/api/runs', { schema: { summary: 'Recent runs with per-table state (as `corrente status --json`)', tags: ['ops'] } }, async () => ({
    runs: deps.api.queues ? await deps.api.queues.recentRuns(20) : [],
  }));

  app.get('/api/dag', { schema: { summary: 'The transform models as a Mermaid graph', tags: ['ops'] } }, async () => ({
    mermaid: (await deps.api.transformGraph?.().catch(() => undefined)) ?? null,
  }));
}
