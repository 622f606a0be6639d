/**
 * The real corrente path, as users run it: worker child process(es)
 * (`node dist/cli/main.js worker`) and `node dist/cli/main.js migrate --tables ... --wait --json`,
 * with a unique CORRENTE_REDIS_PREFIX, a fresh LAKE_DIR and a temp YAML config
 * (CORRENTE_CONFIG) that switches `export.verify` on or off.
 *
 * Measurements built on it: corrente-local, corrente-local+verify, corrente-s3, scaling.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { MeasurementName } from './args.js';
import { ChildFailedError, reproCommand, startChild, type ChildHandle } from './proc.js';
import { FACT_TABLE } from './paths.js';
import { deletePrefix, openRedis, waitForWorkers } from './redis.js';
import { kbToMb } from './rss.js';
import { startS3ServerChild, type S3Endpoint } from './s3-server.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

const MIGRATE_TIMEOUT_MS = 10 * 60_000;

/** One table of `migrate --json` (cli/run-result-json.ts). */
export interface MigrateTableJson {
  table: string;
  state: string;
  rows: number;
  bytes: number;
  files: string[];
  verification: string | null;
  exportSeconds: number | null;
  verifySeconds: number | null;
  rowsPerSecond: number | null;
  /** Seconds per export stage, summed over files (the manifest's `timings.stages`). */
  stages: Record<string, number> | null;
  error?: { code: string; message: string };
}

/** `read 3.10 (paused 1.20), convert 4.00, upload 0.20, checksums 0.00 s`. */
function stagesNote(stages: Record<string, number> | null): string[] {
  if (!stages) return [];
  const f = (k: string): string => (stages[k] ?? 0).toFixed(2);
  return [`stages: read ${f('read')} (paused ${f('readPaused')}), convert ${f('convert')}, upload ${f('upload')}, checksum wait ${f('checksumWait')} s`];
}

interface MigrateJson {
  runId: string;
  ok: boolean;
  tables: MigrateTableJson[];
}

export interface CorrenteRun {
  runId: string;
  tables: MigrateTableJson[];
  /** Wall seconds of the `migrate --wait` process (start to exit, workers already ready). */
  wallSeconds: number;
  /** Peak RSS per worker process, kB. */
  workerPeakKb: (number | undefined)[];
  workerReadySeconds: number;
}

export interface CorrenteContext {
  databaseUrl: string;
  redis: Redis;
  /** The CLI to run (a private copy of dist/cli/main.js, see code-snapshot.ts). */
  cliPath: string;
}

interface RunOptions {
  label: string;
  tables: readonly string[];
  workers: number;
  verify: boolean;
  s3?: S3Endpoint;
  /** export.chunkMb: split tables above this heap size into ranges (scaling runs). */
  chunkMb?: number;
}

/** Redis prefixes of runs in progress, for clean-up on Ctrl-C. */
const activePrefixes = new Set<string>();

/** Deletes the keys of runs still in progress (used by the signal handler). */
export async function deleteActivePrefixes(): Promise<void> {
  if (activePrefixes.size === 0) return;
  const redis = openRedis();
  try {
    for (const p of activePrefixes) await deletePrefix(redis, p);
  } finally {
    redis.disconnect();
  }
}

function sanitize(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Runs one migration through real worker processes and returns what migrate reported. */
export async function runCorrente(ctx: CorrenteContext, opts: RunOptions): Promise<CorrenteRun> {
  const tmp = makeTempDir(`corrente-bench-${sanitize(opts.label)}-`);
  const prefix = `corrente-bench-${process.pid}-${randomBytes(3).toString('hex')}-${sanitize(opts.label)}`;
  const configPath = join(tmp, 'corrente.yaml');
  writeFileSync(configPath, `export:\n  verify: ${opts.verify}\n${opts.chunkMb ? `  chunkMb: ${opts.chunkMb}\n` : ''}`);
  const env: Record<string, string | undefined> = {
    DATABASE_URL: ctx.databaseUrl,
    CORRENTE_REDIS_PREFIX: prefix,
    LAKE_DIR: join(tmp, 'lake'),
    LOG_LEVEL: 'warn',
    CORRENTE_CONFIG: configPath,
    // Only the endpoint the harness chooses: a developer's shell must not switch local runs to S3.
    AWS_ENDPOINT_URL: undefined,
    S3_ENDPOINT: undefined,
    MINIO_ENDPOINT: opts.s3?.endpoint,
    MINIO_ACCESS_KEY: opts.s3?.accessKey,
    MINIO_SECRET_KEY: opts.s3?.secretKey,
  };
  const workers: ChildHandle[] = [];
  activePrefixes.add(prefix);
  try {
    for (let i = 0; i < opts.workers; i++) {
      workers.push(startChild(`${opts.label} worker ${i + 1}`, process.execPath, [ctx.cliPath, 'worker'], { env, cwd: tmp, timeoutMs: MIGRATE_TIMEOUT_MS + 120_000 }));
    }
    let readySeconds: number;
    try {
      readySeconds = await waitForWorkers(ctx.redis, prefix, opts.workers, () => workers.every((w) => w.running));
    } catch (err) {
      const dead = workers.find((w) => !w.running);
      if (dead) dead.assertOk(await dead.exited);
      throw new Error(`waiting for the worker(s) to register in Redis (${process.env.REDIS_URL || 'redis://127.0.0.1:6379'}): ${(err as Error).message}`);
    }
    log(`${opts.label}: ${opts.workers} worker(s) ready in ${readySeconds.toFixed(1)} s; migrating ${opts.tables.join(', ')}`);

    const migrateArgs = [ctx.cliPath, 'migrate', '--tables', opts.tables.join(','), '--wait', '--json'];
    const migrate = startChild(`${opts.label} migrate`, process.execPath, migrateArgs, { env, cwd: tmp, timeoutMs: MIGRATE_TIMEOUT_MS });
    const exit = await migrate.exited;
    // Peaks first, while the workers are still alive.
    for (const w of workers) w.rss.captureHighWaterMark();
    const workerRepro = reproCommand(env, 'node', ['dist/cli/main.js', 'worker']);
    const repro = `${workerRepro} &  # then:\n${reproCommand(env, 'node', migrateArgs.map((a) => (a === ctx.cliPath ? 'dist/cli/main.js' : a)))}`;
    let parsed: MigrateJson | undefined;
    try {
      parsed = JSON.parse(migrate.stdout) as MigrateJson;
    } catch {
      parsed = undefined;
    }
    if (!parsed || exit.code !== 0 || !parsed.ok) {
      const tableErrors = parsed?.tables
        .filter((t) => t.state !== 'published')
        .map((t) => `${t.table}: ${t.state}${t.error ? ` ${t.error.code}: ${t.error.message}` : ''}`)
        .join('; ');
      const workerErr = workers.map((w) => w.stderr.trim()).filter(Boolean).join('\n').split('\n').slice(-10).join('\n');
      const why = exit.timedOut ? 'timed out' : `exited with code ${exit.code}`;
      throw new ChildFailedError(
        `corrente migrate ${why}${tableErrors ? ` (${tableErrors})` : ''}` +
          `${migrate.stderr.trim() ? `\nmigrate stderr: ${migrate.stderr.trim().split('\n').slice(-8).join('\n')}` : ''}` +
          `${workerErr ? `\nworker stderr: ${workerErr}` : ''}`,
        repro,
        migrate.stderr,
      );
    }
    return {
      runId: parsed.runId,
      tables: parsed.tables,
      wallSeconds: exit.seconds,
      workerPeakKb: workers.map((w) => w.rss.peakKb),
      workerReadySeconds: readySeconds,
    };
  } finally {
    await Promise.all(workers.map(async (w) => {
      const e = await w.stop(40_000);
      if (e.code !== 0 && e.signal === null && !e.timedOut) log(`${w.name} exited with code ${e.code}: ${w.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }));
    await deletePrefix(ctx.redis, prefix).catch((e: Error) => log(`could not delete Redis keys ${prefix}:*: ${e.message}`));
    activePrefixes.delete(prefix);
    await removeTempDir(tmp);
  }
}

function maxKb(list: (number | undefined)[]): number | undefined {
  const v = Math.max(0, ...list.map((x) => x ?? 0));
  return v > 0 ? v : undefined;
}

function singleTable(run: CorrenteRun): MigrateTableJson {
  const t = run.tables.find((x) => x.table === FACT_TABLE) ?? run.tables[0];
  if (!t) throw new Error('migrate reported no tables');
  return t;
}

/** corrente-local (verify off) or corrente-local+verify. */
export async function measureCorrenteLocal(ctx: CorrenteContext, verify: boolean): Promise<Measurement> {
  const key: MeasurementName = verify ? 'corrente-local+verify' : 'corrente-local';
  log(`${key}: starting`);
  const run = await runCorrente(ctx, { label: key, tables: [FACT_TABLE], workers: 1, verify });
  const t = singleTable(run);
  const exportSeconds = t.exportSeconds ?? run.wallSeconds;
  const verifySeconds = t.verifySeconds ?? 0;
  const seconds = verify ? exportSeconds + verifySeconds : exportSeconds;
  const notes = verify
    ? [
        `export with source checksums ${exportSeconds.toFixed(2)} s + verify job ${verifySeconds.toFixed(2)} s; wall ${run.wallSeconds.toFixed(2)} s; verification ${t.verification}`,
      ]
    : [`exportSeconds from migrate --json; wall (enqueue to published, incl. CLI start) ${run.wallSeconds.toFixed(2)} s`];
  notes.push(...stagesNote(t.stages));
  return {
    key,
    label: key,
    rows: t.rows,
    seconds,
    rowsPerSecond: t.rows / seconds,
    peakRssMb: kbToMb(maxKb(run.workerPeakKb)),
    peakRssSource: 'VmHWM of the worker process',
    outputBytes: t.bytes,
    factTableOnly: true,
    notes,
    details: {
      exportSeconds,
      verifySeconds: t.verifySeconds,
      wallSeconds: run.wallSeconds,
      verification: t.verification,
      files: t.files.length,
      stages: t.stages,
      runId: run.runId,
    },
  };
}

/** corrente-s3: as corrente-local (verify off) against an s3rver in a child process. */
export async function measureCorrenteS3(ctx: CorrenteContext): Promise<Measurement> {
  log('corrente-s3: starting s3rver');
  const s3 = await startS3ServerChild();
  try {
    const run = await runCorrente(ctx, { label: 'corrente-s3', tables: [FACT_TABLE], workers: 1, verify: false, s3 });
    s3.handle.rss.captureHighWaterMark();
    const t = singleTable(run);
    const exportSeconds = t.exportSeconds ?? run.wallSeconds;
    const s3rverMb = kbToMb(s3.handle.rss.peakKb);
    return {
      key: 'corrente-s3',
      label: 'corrente-s3',
      rows: t.rows,
      seconds: exportSeconds,
      rowsPerSecond: t.rows / exportSeconds,
      peakRssMb: kbToMb(maxKb(run.workerPeakKb)),
      peakRssSource: 'VmHWM of the worker process',
      outputBytes: t.bytes,
      factTableOnly: true,
      notes: [`s3rver in a child process (peak ${s3rverMb ?? '?'} MB, shares the 2 cores); wall ${run.wallSeconds.toFixed(2)} s`],
      details: { exportSeconds, wallSeconds: run.wallSeconds, files: t.files.length, s3rverPeakRssMb: s3rverMb, runId: run.runId },
    };
  } finally {
    await s3.close();
    await removeTempDir(s3.directory).catch(() => {});
  }
}

/** Heap megabytes per chunk so the fact table splits into about 8 ranges (~110 bytes/row). */
export function scalingChunkMb(factRows: number): number {
  return Math.max(1, Math.round((factRows * 110) / 8 / 1024 / 1024));
}

/**
 * scaling: the fact table split into ~8 key ranges (chunk jobs from one snapshot), with N
 * worker processes sharing the queue; both runs use the same split.
 */
export async function measureScaling(ctx: CorrenteContext, workers: number, factRows: number): Promise<Measurement> {
  const label = `scaling ${workers}w`;
  log(`${label}: starting`);
  const chunkMb = scalingChunkMb(factRows);
  const run = await runCorrente(ctx, { label, tables: [FACT_TABLE], workers, verify: false, chunkMb });
  const rows = run.tables.reduce((s, t) => s + t.rows, 0);
  const bytes = run.tables.reduce((s, t) => s + t.bytes, 0);
  const exportSum = run.tables.reduce((s, t) => s + (t.exportSeconds ?? 0), 0);
  const longest = Math.max(...run.tables.map((t) => t.exportSeconds ?? 0));
  log(`${label}: ${Math.round(rows / run.wallSeconds).toLocaleString('en-US')} rows/s over ${run.wallSeconds.toFixed(2)} s wall`);
  return {
    key: 'scaling',
    label,
    rows,
    seconds: run.wallSeconds,
    rowsPerSecond: rows / run.wallSeconds,
    peakRssMb: kbToMb(maxKb(run.workerPeakKb)),
    peakRssSource: `max VmHWM over ${workers} worker process(es)`,
    outputBytes: bytes,
    factTableOnly: false,
    notes: [
      `fact table in ranges of ${chunkMb} MB heap, wall time from enqueue to published (verify off)`,
    ],
    details: {
      workers,
      wallSeconds: run.wallSeconds,
      exportSecondsSum: exportSum,
      longestTableExportSeconds: longest,
      workerPeakRssMb: run.workerPeakKb.map(kbToMb),
      tables: run.tables.map((t) => ({ table: t.table, rows: t.rows, bytes: t.bytes, exportSeconds: t.exportSeconds })),
      runId: run.runId,
    },
  };
}
