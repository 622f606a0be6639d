/**
 * `api`: the HTTP backend under load beside DuckDB alone. The sample tables are migrated
 * and the gold models built into a temp lake (not timed); then `corrente serve` answers
 * a filtered page of gold.fact_demand_daily and the demand-vs-forecast series, 10
 * keep-alive connections for 20 s each, and the same SQL runs in-process on a DuckDB pool
 * with the same concurrency and the API's pool settings (the floor). Reports p50/p95/p99
 * of both, the CPU each request cost the server and the load client (a latency on 2
 * shared cores moves with the machine's load; the CPU per request much less), the load
 * average around each phase, and the server's peak RSS. Targets (issue 13): page p95 <
 * 100 ms; API p50 overhead over DuckDB < 20 ms.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { openQueryPool } from '../src/duckdb/index.js';
import { closedLoop, runHttpLoad, type LoadResult } from './http-load.js';
import { REPO_ROOT } from './paths.js';
import { runChild, startChild } from './proc.js';
import { deletePrefix } from './redis.js';
import { kbToMb } from './rss.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

const CONNECTIONS = 10;
const SECONDS = Number(process.env.CORRENTE_BENCH_API_SECONDS ?? 20);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Parquet files of the current run of a gold model in a local lake. */
function goldFiles(lake: string, model: string): string[] {
  const pointer = JSON.parse(readFileSync(join(lake, 'gold', 'gold', model, '_current.json'), 'utf8')) as { files: string[] };
  return pointer.files.map((k) => join(lake, 'gold', k));
}

/** CPU seconds a process has used so far (Linux /proc; undefined elsewhere). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** A load with what it cost: CPU ms per request of the server (when known) and of this process (the client), and the 1-minute load around it. */
interface CostedLoad extends LoadResult {
  serverCpuMsPerRequest: number | null;
  clientCpuMsPerRequest: number;
  loadAverage: [number, number];
}

async function costed(serverPid: number | undefined, run: () => Promise<LoadResult>): Promise<CostedLoad> {
  const load0 = loadavg()[0]!;
  const server0 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const client0 = process.cpuUsage();
  const result = await run();
  const client = process.cpuUsage(client0);
  const server1 = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
  const perRequest = (ms: number): number => Math.round((ms / result.requests) * 100) / 100;
  return {
    ...result,
    serverCpuMsPerRequest: server0 === undefined || server1 === undefined ? null : perRequest((server1 - server0) * 1000),
    clientCpuMsPerRequest: perRequest((client.user + client.system) / 1000),
    loadAverage: [load0, loadavg()[0]!],
  };
}

/** The same closed loop as the HTTP load, on a DuckDB pool configured as the server's (the API defaults): the floor. */
async function duckdbLoad(sqls: readonly { sql: string; params: string[] }[], seconds: number): Promise<CostedLoad> {
  const api = loadConfig({ env: {}, envFile: false }).api;
  const pool = await openQueryPool({ memoryMb: api.memoryMb, threads: api.threads, connections: api.connections });
  try {
    return await costed(undefined, () =>
      closedLoop(CONNECTIONS, seconds, async (i) => {
        const q = sqls[i % sqls.length]!;
        await pool.query(q.sql, q.params);
      }),
    );
  } finally {
    await pool.close();
  }
}

export async function measureApi(databaseUrl: string, cliPath: string, redis: Redis, rows: number): Promise<Measurement[]> {
  const tmp = makeTempDir('corrente-bench-api-');
  const lake = join(tmp, 'lake');
  const prefix = `corrente-bench-api-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env = { DATABASE_URL: databaseUrl, LAKE_DIR: lake, CORRENTE_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', MINIO_ENDPOINT: undefined, S3_ENDPOINT: undefined, AWS_ENDPOINT_URL: undefined };
  try {
    log('api: migrating the sample tables and building the gold models (not timed)');
    await runChild('migrate (api input)', cliPath, ['migrate', '--inline', '--wait', '--json'], { env, stdout: 'ignore', cwd: tmp });
    // From the repository root: the shipped models are ./transforms there. The input is
    // not what is measured, so the models get room (at 5M rows the silver model outgrew
    // the default 256 MB on 2026-11-29).
    const transformConfig = join(tmp, 'transform.yaml');
    writeFileSync(transformConfig, 'transform:\n  memoryMb: 1024\n');
    await runChild('transform (api input)', cliPath, ['transform', '--inline', '+fact_demand_daily', '+demand_vs_forecast', '--json'], { env: { ...env, CORRENTE_CONFIG: transformConfig }, stdout: 'ignore', cwd: REPO_ROOT });

    const fact = goldFiles(lake, 'fact_demand_daily');
    const mart = goldFiles(lake, 'demand_vs_forecast');
    const list = (files: string[]): string => `[${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`;
    // Items and series to cycle through, so requests do not all hit one row group.
    const probe = await openQueryPool({ connections: 1 });
    let items: string[];
    let series: [string, string][];
    try {
      items = (await probe.query(`SELECT item_id::VARCHAR FROM read_parquet(${list(fact)}) GROUP BY 1 ORDER BY count(*) DESC LIMIT 20`)).rows.map((r) => String(r[0]));
      series = (await probe.query(`SELECT item_id::VARCHAR, site_id::VARCHAR FROM read_parquet(${list(mart)}) GROUP BY ALL ORDER BY count(*) DESC LIMIT 20`)).rows.map((r) => [String(r[0]), String(r[1])]);
    } finally {
      await probe.close();
    }
    const since = '2025-01-01';
    // The SQL the API builds for these requests (src/api/table-query.ts), bound the same way.
    const pageSql = items.map((item) => ({
      sql: `SELECT * FROM read_parquet(${list(fact)}, hive_partitioning = false) WHERE "item_id" = CAST($1 AS INTEGER) AND "demand_date" >= CAST($2 AS DATE) ORDER BY "demand_id" LIMIT 101`,
      params: [item, since],
    }));
    const seriesSql = series.map(([item, site]) => ({
      sql: `SELECT * FROM read_parquet(${list(mart)}, hive_partitioning = false) WHERE "item_id" = CAST($1 AS INTEGER) AND "site_id" = CAST($2 AS INTEGER) ORDER BY "week_start", "model_name" LIMIT 10001`,
      params: [item, site],
    }));

    const port = await freePort();
    const server = startChild('corrente serve', cliPath, ['serve', '--port', String(port)], { env, cwd: tmp, timeoutMs: 15 * 60_000 });
    const base = `http://127.0.0.1:${port}`;
    let page: CostedLoad;
    let forecast: CostedLoad;
    try {
      for (let i = 0; ; i++) {
        const ok = await fetch(`${base}/ready`).then((r) => r.ok).catch(() => false);
        if (ok) break;
        if (i > 300 || !server.running) throw new Error(`corrente serve did not become ready: ${server.stderr.slice(-500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      log(`api: ${CONNECTIONS} connections for ${SECONDS} s per endpoint`);
      page = await costed(server.pid, () => runHttpLoad(items.map((i) => `${base}/api/tables/gold/fact_demand_daily/rows?item_id=eq.${i}&demand_date=gte.${since}&limit=100`), CONNECTIONS, SECONDS));
      forecast = await costed(server.pid, () => runHttpLoad(series.map(([i, s]) => `${base}/api/demand-vs-forecast?item_id=${i}&site_id=${s}`), CONNECTIONS, SECONDS));
    } finally {
      await server.stop(10_000);
    }
    log('api: the same SQL on DuckDB in-process');
    const pageFloor = await duckdbLoad(pageSql, SECONDS);
    const forecastFloor = await duckdbLoad(seriesSql, SECONDS);
    const serverRss = kbToMb(server.rss.peakKb);
    const row = (label: string, load: CostedLoad, floor: CostedLoad, target: string): Measurement => ({
      key: 'api',
      label,
      rows: load.requests,
      seconds: load.seconds,
      rowsPerSecond: null,
      peakRssMb: serverRss,
      peakRssSource: `corrente serve (${server.rss.source})`,
      outputBytes: null,
      factTableOnly: false,
      notes: [
        `API p50/p95/p99 ${load.p50}/${load.p95}/${load.p99} ms, ${load.requestsPerSecond} req/s, ${load.errors} errors (${CONNECTIONS} connections, ${SECONDS} s, load ${load.loadAverage.join('-')})`,
        `CPU per request: server ${load.serverCpuMsPerRequest ?? '?'} ms, load client ${load.clientCpuMsPerRequest} ms`,
        `DuckDB alone p50/p95/p99 ${floor.p50}/${floor.p95}/${floor.p99} ms, ${floor.requestsPerSecond} queries/s, ${floor.clientCpuMsPerRequest} ms CPU per query (load ${floor.loadAverage.join('-')})`,
        `API overhead at p50: ${Math.round((load.p50 - floor.p50) * 10) / 10} ms; ${target}`,
      ],
      details: { api: load, duckdb: floor, overheadP50Ms: Math.round((load.p50 - floor.p50) * 10) / 10, factRows: rows },
    });
    return [
      row('API filtered page (gold.fact_demand_daily)', page, pageFloor, `target p95 < 100 ms: ${page.p95 < 100 ? 'PASS' : 'FAIL'}; overhead < 20 ms: ${page.p50 - pageFloor.p50 < 20 ? 'PASS' : 'FAIL'}`),
      row('API demand vs forecast', forecast, forecastFloor, `overhead < 20 ms: ${forecast.p50 - forecastFloor.p50 < 20 ? 'PASS' : 'FAIL'}`),
    ];
  } finally {
    await deletePrefix(redis, prefix).catch(() => {});
    await removeTempDir(tmp);
  }
}
