/**
 * Health checks of the parts corrente depends on, for `corrente doctor`: Postgres (reachable,
 * tables readable, read-only sessions, clock), object storage (reachable, credentials,
 * buckets, a write/read/delete probe) and DuckDB over the lake. Each check reports what it
 * found and, when it fails, the fix; none throws.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { tableSelection } from '../config/index.js';
import { openDuckSession } from '../duckdb/index.js';
import { createPgPool, describeTarget, introspectTable, mapPgError, openReadSession, type PgPool } from '../postgres/index.js';
import { createObjectStore, type ObjectStore } from '../storage/index.js';
import { coerceError, CorrenteError, describeError, isCorrenteError } from '../shared/errors.js';
import { formatTableRef, quoteLiteral } from '../shared/table-schema.js';
import { currentTablesByLayer, defaultCacheDir } from './lake-catalog.js';
import { resolveSelection } from './resolve-selection.js';

/**
 * `ok`: passed; `warn`: works, but worth a look (does not fail doctor); `fail`: broken, with
 * a fix; `skip`: not checked, because what it needs (e.g. a valid config) is missing.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Which part: `postgres`, `tables`, `redis`, `storage`, `duckdb`, ... */
  part: string;
  /** What was checked, e.g. `reachable`. */
  check: string;
  status: CheckStatus;
  /** What was found (versions, names, counts). */
  detail: string;
  /** How to fix it (fail and warn). */
  fix?: string;
  ms: number;
}

/** Clock difference from Postgres above which runs ids, snapshot times and gc ages disagree. */
const SKEW_WARN_MS = 2_000;
const SKEW_FAIL_MS = 60_000;

async function timed(part: string, check: string, fn: () => Promise<Omit<CheckResult, 'part' | 'check' | 'ms'>>): Promise<CheckResult> {
  const started = Date.now();
  try {
    return { part, check, ...(await fn()), ms: Date.now() - started };
  } catch (err) {
    return { part, check, status: 'fail', detail: isCorrenteError(err) ? err.message : describeError(err), ...(isCorrenteError(err) && err.hint ? { fix: err.hint } : {}), ms: Date.now() - started };
  }
}

/** Postgres: reachable, clock, read-only sessions, every configured table readable. */
export async function checkPostgres(config: Pick<Config, 'postgres' | 'tables' | 'exclude'>): Promise<CheckResult[]> {
  const url = config.postgres.url;
  const target = describeTarget(url);
  const pool: PgPool = createPgPool({ url, connectTimeoutMs: Math.min(config.postgres.connectTimeoutMs, 5_000) });
  const out: CheckResult[] = [];
  try {
    let skewMs = 0;
    const reach = await timed('postgres', 'reachable', async () => {
      const sent = Date.now();
      const row = (await pool.query<{ v: string; now_ms: string; su: boolean; role: string }>(
        `SELECT current_setting('server_version') AS v, (extract(epoch FROM clock_timestamp()) * 1000)::int8::text AS now_ms,
                (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su, current_user AS role`,
      ).catch((err: unknown) => {
        throw mapPgError(err, target);
      })).rows[0]!;
      skewMs = Number(row.now_ms) - (sent + Date.now()) / 2;
      const superuser = row.su ? `; role ${row.role} is a superuser` : '';
      return {
        status: row.su ? 'warn' : 'ok',
        detail: `${target}, PostgreSQL ${row.v}, role ${row.role}${superuser}`,
        ...(row.su ? { fix: 'Export with a role that can only read (README, "Least-privilege role")' } : {}),
      };
    });
    out.push(reach);
    if (reach.status === 'fail') return out;
    out.push(
      await timed('postgres', 'clock skew', async () => {
        const abs = Math.abs(skewMs);
        const detail = `this machine is ${(Math.abs(skewMs) / 1000).toFixed(3)} s ${skewMs > 0 ? 'behind' : 'ahead of'} Postgres`;
        if (abs < SKEW_WARN_MS) return { status: 'ok', detail };
        return { status: abs >= SKEW_FAIL_MS ? 'fail' : 'warn', detail, fix: 'Synchronise the clocks (NTP/chrony) of this machine and the database server: run ids, snapshot times and gc ages compare them' };
      }),
    );
    out.push(
      await timed('postgres', 'read-only sessions', async () => {
        const session = await openReadSession(pool, { target: url });
        try {
          const ro = (await session.client.query<{ ro: string }>(`SELECT current_setting('transaction_read_only') AS ro`)).rows[0]!.ro;
          return ro === 'on'
            ? { status: 'ok', detail: 'exports run in READ ONLY, REPEATABLE READ transactions' }
            : { status: 'fail', detail: `transaction_read_only is ${ro} in an export session`, fix: 'Report this: export sessions must be read-only' };
        } finally {
          await session.close();
        }
      }),
    );
    out.push(...(await checkTables(pool, config)));
    return out;
  } finally {
    await pool.end();
  }
}

/** One result per configured table that cannot be read, or one `ok` naming how many can. */
async function checkTables(pool: PgPool, config: Pick<Config, 'postgres' | 'tables' | 'exclude'>): Promise<CheckResult[]> {
  const started = Date.now();
  const url = config.postgres.url;
  let targets;
  try {
    targets = (await resolveSelection(pool, url, tableSelection(config))).targets;
  } catch (err) {
    return [{ part: 'tables', check: 'readable', status: 'fail', detail: describeErrorMessage(err), ...(hintOf(err) ? { fix: hintOf(err)! } : {}), ms: Date.now() - started }];
  }
  const failures: CheckResult[] = [];
  const session = await openReadSession(pool, { target: url });
  try {
    for (const t of targets) {
      const shown = formatTableRef(t.table);
      const at = Date.now();
      // A failed statement aborts the transaction: each table is checked in a savepoint.
      await session.client.query('SAVEPOINT doctor');
      try {
        await introspectTable(session.client, t.table);
        await session.client.query(`SELECT 1 FROM ${quoteIdentPair(t.table)} LIMIT 0`);
        await session.client.query('RELEASE SAVEPOINT doctor');
      } catch (err) {
        await session.client.query('ROLLBACK TO SAVEPOINT doctor');
        const mapped = mapPgError(err, describeTarget(url), { table: shown });
        failures.push({ part: 'tables', check: shown, status: 'fail', detail: describeErrorMessage(mapped), ...(hintOf(mapped) ? { fix: hintOf(mapped)! } : {}), ms: Date.now() - at });
      }
    }
  } finally {
    await session.close();
  }
  if (failures.length > 0) return failures;
  return [{ part: 'tables', check: 'readable', status: 'ok', detail: `${targets.length} configured table${targets.length === 1 ? '' : 's'} readable`, ms: Date.now() - started }];
}

function quoteIdentPair(t: { schema: string; name: string }): string {
  return `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
}

function describeErrorMessage(err: unknown): string {
  return isCorrenteError(err) ? err.message : coerceError(err).message.split('\n')[0]!;
}

function hintOf(err: unknown): string | undefined {
  return isCorrenteError(err) ? err.hint : undefined;
}

/** Object storage: each bucket reachable with these credentials, present, and a write/read/delete round trip. */
export async function checkStorage(config: Pick<Config, 'storage'>): Promise<CheckResult[]> {
  const store = createObjectStore(config.storage);
  const where = config.storage.kind === 'local' ? `local lake ${config.storage.lakeDir}` : `S3 at ${config.storage.s3.endpoint ?? 'AWS'}`;
  const out: CheckResult[] = [];
  try {
    for (const layer of ['bronze', 'silver', 'gold'] as const) {
      const bucket = config.storage.buckets[layer];
      const named = bucket === layer ? `bucket ${bucket}` : `bucket ${bucket} (${layer})`;
      out.push(
        await timed('storage', `bucket ${bucket}`, async () => {
          const present = await bucketPresent(store, bucket);
          if (!present) {
            if (config.storage.kind === 'local' || config.storage.s3.createBuckets) {
              return { status: 'ok', detail: `${where}: ${named} does not exist yet; the first migrate creates it` };
            }
            return {
              status: 'fail',
              detail: `${where}: ${named} does not exist`,
              fix: `Create it (mc mb <alias>/${bucket}), or set storage.s3.createBuckets: true`,
            };
          }
          await probe(store, bucket);
          return { status: 'ok', detail: `${where}: ${named} present; write, read and delete work` };
        }),
      );
    }
    return out;
  } finally {
    await store.close();
  }
}

/** Lists one key: missing buckets answer `STORAGE_BUCKET_MISSING`; bad credentials and outages throw. */
async function bucketPresent(store: ObjectStore, bucket: string): Promise<boolean> {
  try {
    for await (const _ of store.list(bucket, '_corrente_doctor/')) break;
    return true;
  } catch (err) {
    if (isCorrenteError(err) && err.code === 'STORAGE_BUCKET_MISSING') return false;
    throw err;
  }
}

async function probe(store: ObjectStore, bucket: string): Promise<void> {
  const key = `_corrente_doctor/probe-${randomBytes(6).toString('hex')}`;
  const body = `corrente doctor ${new Date().toISOString()}`;
  await store.putBytes(bucket, key, body);
  try {
    const back = await store.getBytes(bucket, key);
    if (back?.toString('utf8') !== body) throw new Error(`read back ${back ? `${back.length} different bytes` : 'nothing'} after writing ${key}`);
  } finally {
    await store.deleteMany(bucket, [key]);
  }
  const left = await store.getBytes(bucket, key);
  if (left !== undefined) throw new Error(`${key} still exists after delete`);
}

/** DuckDB alone, without the lake: the engine loads and answers. */
function checkDuckdbEngine(): Promise<CheckResult> {
  return timed('duckdb', 'runs', async () => {
    const duck = await openDuckSession({ memoryMb: 64, threads: 1 });
    try {
      const [row] = await duck.rows('SELECT version() AS v');
      return { status: 'ok', detail: `DuckDB ${String(row?.v)} runs` };
    } finally {
      duck.close();
    }
  });
}

/**
 * DuckDB: reads the metadata of the first file of every current table (downloading remote
 * ones). Without a config (it is invalid), only that the engine runs.
 */
export async function checkDuckdb(config: Pick<Config, 'storage' | 'export'> | undefined): Promise<CheckResult[]> {
  if (!config) return [await checkDuckdbEngine()];
  const store = createObjectStore(config.storage);
  try {
    return [
      await timed('duckdb', 'reads the lake', async () => {
        const tables = await currentTablesByLayer(store, config.storage.buckets);
        const duck = await openDuckSession({ memoryMb: 256, threads: 1 });
        try {
          await duck.rows('SELECT 1');
          let files = 0;
          for (const t of tables) {
            const key = t.pointer.files[0];
            if (key === undefined) continue;
            const local = store.localPath(t.bucket, key);
            const path = local ?? join(defaultCacheDir(config.export.workDir), `doctor-${randomBytes(4).toString('hex')}.parquet`);
            try {
              if (local === undefined) {
                await mkdir(defaultCacheDir(config.export.workDir), { recursive: true });
                await store.getFile(t.bucket, key, path);
              }
              await duck.rows(`SELECT count(*) AS n FROM parquet_metadata(${quoteLiteral(path)})`);
              files++;
            } catch (err) {
              if (isCorrenteError(err)) throw err;
              throw new CorrenteError('STORAGE_IO', `DuckDB cannot read ${path} (${t.layer} ${formatTableRef(t.table)}): ${coerceError(err).message.split('\n')[0]}`, {
                hint: `Check the file exists and is readable by this user; re-publish with corrente migrate --tables ${formatTableRef(t.table)}`,
              });
            } finally {
              if (local === undefined) await rm(path, { force: true });
            }
          }
          return { status: 'ok', detail: tables.length === 0 ? 'DuckDB runs; nothing published yet' : `DuckDB read ${files} current file${files === 1 ? '' : 's'} of ${tables.length} table${tables.length === 1 ? '' : 's'}` };
        } finally {
          duck.close();
        }
      }),
    ];
  } finally {
    await store.close();
  }
}
