/**
 * The HTTP backend (`corrente serve`, port 5000): fastify with JSON-schema-validated
 * input and an OpenAPI page (`/docs`), data routes over the current runs answered by
 * DuckDB, health and metrics, the queue UI (`/admin/queues`) and the dashboard (`/`).
 *
 * fastify: schema-validated routes, fast JSON serialisation, OpenAPI from the same
 * schemas, and a plugin for Bull Board; the DuckDB queries dominate request time anyway.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { openQueryPool, type QueryPool } from '../duckdb/index.js';
import { CorrenteError, coerceError, type ErrorCode } from '../shared/errors.js';
import { findUp } from '../shared/find-up.js';
import type { ApiDeps } from './api-types.js';
import { registerDataRoutes } from './data-routes.js';
import { createApiMetrics } from './metrics.js';
import { registerOpsRoutes } from './ops-routes.js';
import { ServedTables } from './served-tables.js';
import { defaultCacheDir } from '../pipeline/index.js';

/** HTTP status per error code; anything else is a 500 with a generic message. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 400,
  TABLE_NOT_FOUND: 404,
  RUN_NOT_FOUND: 410,
  PERMISSION_DENIED: 403,
  STORAGE_UNREACHABLE: 503,
  STORAGE_AUTH: 503,
  STORAGE_BUCKET_MISSING: 503,
  STORAGE_IO: 503,
  REDIS_UNREACHABLE: 503,
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export interface ApiServer {
  app: FastifyInstance;
  /** Starts listening; resolves with the bound address (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number; url: string }>;
  /** Stops accepting requests, waits for the running ones, closes DuckDB; idempotent. */
  close(): Promise<void>;
}

/**
 * Where the dashboard's files are, looking up from this module: beside it in the sources;
 * `src/api/dashboard` of the checkout when running from dist/ (this module, or the CLI
 * bundle's chunk holding it, sits 2-3 folders down); `dist/src/api/dashboard` in the image.
 */
function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = findUp(here, (dir) => [join(dir, 'dashboard'), join(dir, 'src', 'api', 'dashboard')].find((d) => existsSync(join(d, 'index.html'))), 4);
  return found ?? join(here, 'dashboard');
}

function uplotDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
}

/** Builds the server (not listening yet). */
export async function createApiServer(deps: ApiDeps): Promise<ApiServer> {
  const cfg = deps.config;
  const duck: QueryPool = await openQueryPool({ memoryMb: cfg.memoryMb, threads: cfg.threads, connections: cfg.connections });
  const tables = new ServedTables({
    store: deps.store,
    buckets: deps.buckets,
    cacheDir: cfg.cacheDir ?? defaultCacheDir(undefined),
    refreshMs: cfg.refreshMs,
    cacheBytes: cfg.cacheMb * 1024 * 1024,
  });
  const metrics = createApiMetrics(tables, deps.queues);
  const app = Fastify({ logger: false, ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } } });
  try {
    app.setErrorHandler((err: FastifyError, req, reply) => {
      if (err.validation) {
        return reply.code(400).send({ error: { code: 'CONFIG_INVALID', message: `Invalid request: ${err.message}`, hint: 'See /docs for the parameters of this route' } });
      }
      const e = err instanceof CorrenteError ? err : coerceError(err);
      const status = e instanceof CorrenteError ? (STATUS[e.code] ?? 500) : 500;
      if (status >= 500) deps.logger.error({ err: { message: e.message }, url: req.url.slice(0, 200) }, 'request failed');
      const body = status === 500 && !(e instanceof CorrenteError) ? { code: 'INTERNAL', message: 'Internal error; see the server log' } : { code: (e as CorrenteError).code, message: e.message, ...((e as CorrenteError).hint ? { hint: (e as CorrenteError).hint } : {}) };
      return reply.code(status).send({ error: body });
    });
    app.addHook('onResponse', (req, reply, done) => {
      metrics.observeRequest(req.routeOptions.url ?? 'unknown', req.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
    // Admin routes need the bearer token when the server is reachable beyond this machine
    // (on loopback the hook is not installed: it would run on every request for nothing).
    if (!LOOPBACK.has(cfg.host)) app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith('/admin')) return;
      if (!cfg.token) return reply.code(403).send({ error: { code: 'PERMISSION_DENIED', message: 'Admin routes are disabled: the server listens beyond localhost and no api.token is set', hint: 'Set CORRENTE_API_TOKEN (16+ characters) and send it as Authorization: Bearer <token>' } });
      if (req.headers.authorization !== `Bearer ${cfg.token}`) return reply.code(401).send({ error: { code: 'PERMISSION_DENIED', message: 'Missing or wrong bearer token', hint: 'Send Authorization: Bearer <CORRENTE_API_TOKEN>' } });
    });
    await app.register(fastifySwagger, { openapi: { info: { title: 'corrente API', version: '1', description: 'The lake\'s current runs, read through DuckDB' } } });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
    registerDataRoutes(app, { api: deps, tables, duck, observeQuery: metrics.observeQuery });
    registerOpsRoutes(app, { api: deps, tables, duck, metrics });
    await app.register(fastifyStatic, { root: dashboardDir(), prefix: '/', index: ['index.html'] });
    await app.register(fastifyStatic, { root: uplotDir(), prefix: '/assets/uplot/', decorateReply: false });
    if (deps.queues) await registerQueueUi(app, await deps.queues.bullQueues());
  } catch (err) {
    await app.close().catch(() => {});
    await duck.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    app,
    async listen() {
      const address = await app.listen({ port: cfg.port, host: cfg.host });
      const port = (app.server.address() as { port: number }).port;
      return { host: cfg.host, port, url: address };
    },
    close: () =>
      (closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await duck.close();
        }
      })()),
  };
}

/** Bull Board over every queue, at /admin/queues. */
async function registerQueueUi(app: FastifyInstance, queues: unknown[]): Promise<void> {
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([import('@bull-board/api'), import('@bull-board/api/bullMQAdapter'), import('@bull-board/fastify')]);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath('/admin/queues');
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q as ConstructorParameters<typeof BullMQAdapter>[0], { readOnlyMode: false })), serverAdapter });
  await app.register(serverAdapter.registerPlugin(), { prefix: '/admin/queues' });
}
