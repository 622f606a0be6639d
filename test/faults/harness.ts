/**
 * Shared machinery of the fault-injection suite: the source table, sandboxes (unique
 * Redis prefix, fresh lake dir or S3 server, YAML config), the real `corrente` CLI as
 * child processes, run status straight from Redis, and an independent check of what is
 * published (pointer -> manifest -> files -> DuckDB `read_parquet` counts and checksums).
 *
 * Every child process started here is tracked and killed by pid in `killStrayChildren`;
 * nothing else is ever signalled.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { stringify } from 'yaml';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TABLE = 'facts';
export const BUCKET = 'bronze';

// ---------------------------------------------------------------------------------------
// Generic waiting

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`.
 * Errors from `probe` are retried, except those with `fatal: true`.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------
// Source table

/** ~300k rows: bigint key, numeric(14,3), timestamptz with microseconds, text; NULLs in all but id, and '' apart from NULL. */
export async function createFactsTable(admin: pg.Pool, schema: string, rows: number): Promise<void> {
  await admin.query(`
    CREATE TABLE "${schema}".${TABLE} (
      id bigint PRIMARY KEY,
      amount numeric(14,3),
      at timestamptz,
      label text
    )`);
  await admin.query(
    `INSERT INTO "${schema}".${TABLE}
     SELECT g,
            CASE WHEN g % 11 = 0 THEN NULL ELSE ((g * 7919) % 100000000)::numeric / 1000 - 50000 END,
            CASE WHEN g % 13 = 0 THEN NULL ELSE timestamptz '2020-01-01 00:00:00+00' + g * interval '17 seconds 123457 microseconds' END,
            CASE WHEN g % 7 = 0 THEN NULL WHEN g % 17 = 0 THEN '' ELSE 'item ' || md5(g::text) || CASE WHEN g % 5 = 0 THEN ', "quoted"' ELSE '' END END
     FROM generate_series(1::bigint, $1::bigint) g`,
    [rows],
  );
  await admin.query(`ANALYZE "${schema}".${TABLE}`);
}

/** Order-independent checksums of the data, computed the same way on both sides. */
export interface DataStats {
  rows: number;
  distinctIds: number;
  sumId: string;
  sumAmount: string;
  labels: number;
  emptyLabels: number;
  sumAtMicros: string;
}

export async function sourceStats(admin: pg.Pool, schema: string): Promise<DataStats> {
  const r = await admin.query(`
    SELECT count(*)::text AS rows, count(DISTINCT id)::text AS distinct_ids, sum(id)::text AS sum_id,
           sum(amount)::text AS sum_amount, count(label)::text AS labels,
           count(*) FILTER (WHERE label = '')::text AS empty_labels,
           sum((extract(epoch FROM at) * 1000000)::bigint)::text AS sum_at
    FROM "${schema}".${TABLE}`);
  const row = r.rows[0] as Record<string, string>;
  return {
    rows: Number(row.rows),
    distinctIds: Number(row.distinct_ids),
    sumId: row.sum_id!,
    sumAmount: row.sum_amount!,
    labels: Number(row.labels),
    emptyLabels: Number(row.empty_labels),
    sumAtMicros: row.sum_at!,
  };
}

/** Backend pid of a COPY of our table by a corrente worker, if one is running. */
export async function activeCopyPid(admin: pg.Pool, schema: string): Promise<number | undefined> {
  const r = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE application_name = 'corrente' AND query LIKE 'COPY%' AND query LIKE $1 AND state = 'active'
     ORDER BY backend_start LIMIT 1`,
    [`%${schema}%`],
  );
  return r.rows[0]?.pid;
}

/** Ends corrente backends still working on this schema (after killed workers); ours only. */
export async function terminateSchemaBackends(admin: pg.Pool, schema: string): Promise<void> {
  await admin.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE application_name = 'corrente' AND query LIKE $1 AND pid <> pg_backend_pid()`,
    [`%${schema}%`],
  );
}

// ---------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export type Env = Record<string, string>;

/** Runs the CLI to completion (never rejects). */
export function runCli(args: readonly string[], env: Env, cwd: string, timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env, cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        children.delete(child);
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
      },
    );
    children.add(child);
  });
}

/** Keeps the last `max` characters of a stream. */
class Tail {
  text = '';
  constructor(private readonly max: number) {}
  push(s: string): void {
    this.text += s;
    if (this.text.length > this.max) this.text = this.text.slice(this.text.length - this.max);
  }
}

export interface SpawnedWorker {
  child: ChildProcess;
  pid: number;
  /** Resolves on exit; `at` is Date.now() then. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  alive(): boolean;
  /** The last part of stdout + stderr, for failure messages. */
  logs(): string;
  /** Resolves when a log line matching `re` has appeared. */
  waitForLog(re: RegExp, timeoutMs: number): Promise<void>;
}

/** Starts `corrente worker` in the background. */
export function spawnWorker(env: Env, cwd: string, args: readonly string[] = []): SpawnedWorker {
  const child = spawn(process.execPath, [CLI_PATH, 'worker', ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const tail = new Tail(256 * 1024);
  child.stdout!.setEncoding('utf8').on('data', (d: string) => tail.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => tail.push(d));
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal, at: Date.now() };
      children.delete(child);
      resolve(exitInfo);
    });
  });
  if (child.pid === undefined) throw new Error('worker did not start');
  return {
    child,
    pid: child.pid,
    exited,
    alive: () => exitInfo === undefined,
    logs: () => tail.text,
    waitForLog: (re, timeoutMs) => waitFor(`worker log ${re}`, () => (re.test(tail.text) ? true : exitInfo ? Promise.reject(Object.assign(new Error('worker exited'), { fatal: true })) : undefined), timeoutMs, 100).then(() => undefined),
  };
}

/** The first `Error ...` line of a worker's output after it died, for the report. */
export function crashLine(worker: SpawnedWorker): string | undefined {
  if (worker.alive()) return undefined;
  const line = worker.logs().split('\n').find((l) => /^\w*Error\b.*:/.test(l) || /Unhandled|uncaught/i.test(l));
  return line?.trim();
}

/** SIGKILLs (by pid) every child this module started that is still running. */
export async function killStrayChildren(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
    waits.push(new Promise((r) => child.once('exit', r)));
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.race([Promise.all(waits), sleep(5000)]);
  children.clear();
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function execFileText(file: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Run status (straight from Redis: the same hash `corrente status` reads)

export interface TableStatus {
  state: string;
  rows: number;
  attempts?: number;
  error?: { code: string; message: string };
  [k: string]: unknown;
}

export async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

export async function tableStatus(redisUrl: string, prefix: string, runId: string, schema: string): Promise<TableStatus | undefined> {
  return withRedis(redisUrl, async (r) => {
    const v = await r.hget(`${prefix}:run:${runId}`, `${schema}.${TABLE}`);
    return v ? (JSON.parse(v) as TableStatus) : undefined;
  });
}

export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  try {
    await withRedis(redisUrl, async (r) => {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await r.unlink(...keys);
      } while (cursor !== '0');
    });
  } catch {
    // best effort
  }
}

// ---------------------------------------------------------------------------------------
// What is published

/** Read access to a lake, independent of corrente's own storage code. */
export interface LakeAccess {
  describe: string;
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
  /** A local path holding the object (downloaded for S3). */
  localFile(key: string, scratch: string): Promise<string>;
  close(): void;
}

export function localLake(lakeDir: string): LakeAccess {
  const root = join(lakeDir, BUCKET);
  const walk = async (dir: string): Promise<string[]> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else out.push(relative(root, p));
    }
    return out;
  };
  return {
    describe: `local ${root}`,
    get: async (key) => readFile(join(root, key)).catch(() => undefined),
    list: async (prefix) => (await walk(join(root, prefix))).sort(),
    localFile: async (key) => join(root, key),
    close: () => {},
  };
}

export function s3Lake(endpoint: string, accessKey: string, secretKey: string): LakeAccess {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } });
  const get = async (key: string): Promise<Buffer | undefined> => {
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket') return undefined;
      throw err;
    }
  };
  return {
    describe: `s3 ${endpoint}/${BUCKET}`,
    get,
    list: async (prefix) => {
      const out: string[] = [];
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
        } catch (err) {
          if ((err as { name?: string }).name === 'NoSuchBucket') return [];
          throw err;
        }
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out.sort();
    },
    localFile: async (key, scratch) => {
      const bytes = await get(key);
      if (!bytes) throw new Error(`s3://${BUCKET}/${key} is missing`);
      const p = join(scratch, createHash('sha1').update(key).digest('hex') + '.parquet');
      await writeFile(p, bytes);
      return p;
    },
    close: () => client.destroy(),
  };
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

let duck: { instance: DuckDBInstance; conn: DuckDBConnection } | undefined;

async function duckConn(): Promise<DuckDBConnection> {
  if (!duck) {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '512MB' });
    const conn = await instance.connect();
    await conn.run(`SET TimeZone = 'UTC'`);
    duck = { instance, conn };
  }
  return duck.conn;
}

export function closeDuck(): void {
  if (!duck) return;
  duck.conn.closeSync();
  duck.instance.closeSync();
  duck = undefined;
}

/** The same checksums as {@link sourceStats}, over Parquet files, by DuckDB. */
export async function parquetStats(paths: readonly string[]): Promise<DataStats> {
  const conn = await duckConn();
  const list = paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(', ');
  const reader = await conn.runAndReadAll(`
    SELECT count(*)::VARCHAR AS rows, count(DISTINCT id)::VARCHAR AS distinct_ids, sum(id)::VARCHAR AS sum_id,
           sum(amount)::VARCHAR AS sum_amount, count(label)::VARCHAR AS labels,
           count(*) FILTER (WHERE label = '')::VARCHAR AS empty_labels,
           sum(epoch_us("at"))::VARCHAR AS sum_at
    FROM read_parquet([${list}], hive_partitioning = false)`);
  const row = reader.getRowObjectsJS()[0] as Record<string, string | null>;
  return {
    rows: Number(row.rows),
    distinctIds: Number(row.distinct_ids),
    sumId: String(row.sum_id),
    sumAmount: String(row.sum_amount),
    labels: Number(row.labels),
    emptyLabels: Number(row.empty_labels),
    sumAtMicros: String(row.sum_at),
  };
}

export interface PublishedView {
  /** Raw bytes of `_current.json` (undefined: nothing published). */
  pointerBytes: Buffer | undefined;
  runId?: string;
  files?: string[];
  stats?: DataStats;
  /** Problems that make the published state inconsistent (must be empty). */
  problems: string[];
  /** Objects under run prefixes not referenced by any published manifest (leftovers of failed attempts; invisible to readers). */
  orphans: string[];
}

/**
 * The run id of a key under a run directory (`run-<id>/`; `run=<id>/` in older layouts),
 * or undefined.
 */
export function runDirOf(key: string): string | undefined {
  return /(?:^|\/)run[-=]([^/]+)\//.exec(key)?.[1];
}

/** Keys of one run's Parquet files among `keys`. */
export function runParts(keys: readonly string[], runId: string): string[] {
  return keys.filter((k) => runDirOf(k) === runId && k.endsWith('.parquet'));
}

interface ManifestLike {
  runId: string;
  files: { key: string; rows: number; sha256: string }[];
  totals: { rows: number };
  verification?: { status?: string };
}

/**
 * Reads `_current.json`, its manifest and files; checks the pointer, the manifest and
 * the files agree (keys, sha256, rows) and computes the data checksums with DuckDB. Also
 * checks every `_manifest.json` under the table lists files that exist.
 */
export async function inspectPublished(lake: LakeAccess, schema: string): Promise<PublishedView> {
  const prefix = `${schema}/${TABLE}/`;
  const pointerBytes = await lake.get(`${prefix}_current.json`);
  const all = await lake.list(prefix);
  const problems: string[] = [];
  const referenced = new Set<string>();
  for (const key of all.filter((k) => k.endsWith('/_manifest.json'))) {
    const m = JSON.parse((await lake.get(key))!.toString('utf8')) as ManifestLike;
    referenced.add(key);
    for (const f of m.files) {
      referenced.add(f.key);
      if (!all.includes(f.key)) problems.push(`${key} lists missing file ${f.key}`);
    }
  }
  // Run metadata (staged manifest, chunk results) is bookkeeping, not data.
  const orphans = all.filter((k) => runDirOf(k) !== undefined && !referenced.has(k) && !k.endsWith('/_staged.json') && !k.includes('/_chunks/'));
  if (!pointerBytes) return { pointerBytes, problems, orphans };
  const pointer = JSON.parse(pointerBytes.toString('utf8')) as { runId: string; manifestKey: string; files: string[] };
  const manifestBytes = await lake.get(pointer.manifestKey);
  if (!manifestBytes) {
    problems.push(`_current.json points at missing manifest ${pointer.manifestKey}`);
    return { pointerBytes, runId: pointer.runId, files: pointer.files, problems, orphans };
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestLike;
  if (manifest.runId !== pointer.runId) problems.push(`pointer run ${pointer.runId} but manifest run ${manifest.runId}`);
  const manifestKeys = manifest.files.map((f) => f.key).sort();
  if (JSON.stringify([...pointer.files].sort()) !== JSON.stringify(manifestKeys)) problems.push('pointer files differ from manifest files');
  if (pointer.files.some((k) => runDirOf(k) !== pointer.runId)) problems.push('pointer lists files outside its run prefix');
  if (manifest.verification?.status !== 'passed') problems.push(`manifest verification is ${manifest.verification?.status}`);
  const scratch = await mkdtemp(join(tmpdir(), 'corrente-faults-read-'));
  try {
    const paths: string[] = [];
    for (const f of manifest.files) {
      const p = await lake.localFile(f.key, scratch);
      const digest = await sha256(p);
      if (digest !== f.sha256) problems.push(`${f.key}: sha256 ${digest} != manifest ${f.sha256}`);
      paths.push(p);
    }
    const stats = await parquetStats(paths);
    const manifestRows = manifest.files.reduce((n, f) => n + f.rows, 0);
    if (manifestRows !== stats.rows || manifest.totals.rows !== stats.rows) problems.push(`manifest says ${manifest.totals.rows} rows (files ${manifestRows}), Parquet holds ${stats.rows}`);
    return { pointerBytes, runId: pointer.runId, files: pointer.files, stats, problems, orphans };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Sandboxes

export interface SandboxOptions {
  /** YAML config (merged over nothing; the file is passed with CORRENTE_CONFIG). */
  yaml: Record<string, unknown>;
  /** Use this lake dir instead of a fresh temp dir (e.g. a tmpfs). */
  lakeDir?: string;
  /** S3 settings: the endpoint workers use, and credentials. */
  s3?: { endpoint: string; accessKey: string; secretKey: string };
}

export interface Sandbox {
  prefix: string;
  lakeDir: string;
  cwd: string;
  env: Env;
  /** Removes temp dirs and Redis keys. */
  cleanup(): Promise<void>;
}

export async function createSandbox(name: string, options: SandboxOptions): Promise<Sandbox> {
  const cwd = await mkdtemp(join(tmpdir(), `corrente-faults-${name}-cwd-`));
  const ownLake = options.lakeDir === undefined;
  const lakeDir = options.lakeDir ?? (await mkdtemp(join(tmpdir(), `corrente-faults-${name}-lake-`)));
  await mkdir(lakeDir, { recursive: true });
  const prefix = `corrente-faults-${name}-${randomBytes(4).toString('hex')}`;
  const configPath = join(cwd, 'corrente.yaml');
  await writeFile(configPath, stringify(options.yaml));
  const env: Env = {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    LAKE_DIR: lakeDir,
    CORRENTE_REDIS_PREFIX: prefix,
    CORRENTE_CONFIG: configPath,
    LOG_LEVEL: 'info',
    ...(options.s3 ? { MINIO_ENDPOINT: options.s3.endpoint, MINIO_ACCESS_KEY: options.s3.accessKey, MINIO_SECRET_KEY: options.s3.secretKey } : {}),
  };
  return {
    prefix,
    lakeDir,
    cwd,
    env,
    cleanup: async () => {
      await deleteRedisPrefix(env.REDIS_URL!, prefix);
      await rm(cwd, { recursive: true, force: true });
      if (ownLake) await rm(lakeDir, { recursive: true, force: true });
    },
  };
}

/** `corrente migrate --tables <schema>.facts --run-id <id>` (enqueue only); throws unless it exits 0. */
export async function enqueueRun(env: Env, cwd: string, schema: string, runId: string): Promise<void> {
  const r = await runCli(['migrate', '--tables', `${schema}.${TABLE}`, '--run-id', runId], env, cwd);
  if (r.code !== 0) throw new Error(`migrate exited ${r.code}: ${r.stderr.slice(-2000)}`);
}

/** Waits for the table of a run to reach one of `states`; returns its status. */
export async function waitForState(env: Env, schema: string, runId: string, states: readonly string[], timeoutMs: number, worker?: SpawnedWorker): Promise<TableStatus> {
  try {
    return await waitFor(
      `run ${runId} to reach ${states.join('/')}`,
      async () => {
        const s = await tableStatus(env.REDIS_URL!, env.CORRENTE_REDIS_PREFIX!, runId, schema);
        if (s && states.includes(s.state)) return s;
        // Nothing will move the run on if the only worker died: fail now, with its log.
        if (worker && !worker.alive()) throw Object.assign(new Error(`the worker process (pid ${worker.pid}) exited`), { fatal: true });
        return undefined;
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    const last = await tableStatus(env.REDIS_URL!, env.CORRENTE_REDIS_PREFIX!, runId, schema).catch(() => undefined);
    throw new Error(`${(err as Error).message}; last status ${JSON.stringify(last)}${worker ? `\nworker log tail:\n${worker.logs().slice(-4000)}` : ''}`);
  }
}

export function newRunId(tag: string): string {
  return `${tag}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}
