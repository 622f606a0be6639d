/**
 * The real corrente path, as users run it: worker child process(es)
 * (`node dist/cli/main.js worker`) and `node dist/cli/main.js migrate --tables ... --wait --json`,
 * with a unique CORRENTE_REDIS_PREFIX, a fresh LAKE_DIR and a temp YAML config
 * (CORRENTE_CONFIG) that switches `export.verify` on or off.
 *
 * Measurements built on it: corrente-local, corrente-local+verify, corrente-s3, scaling.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { MeasurementName } from './args.js';
import { claimPrefix, correnteEnv, readMigrateJson, releasePrefix, stagesNote, type MigrateTableJson } from './corrente-cli.js';
import { reproCommand, startChild, type ChildHandle } from './proc.js';
import { FACT_TABLE } from './paths.js';
import { waitForWorkers } from './redis.js';
import { kbToMb } from './rss.js';
import { startS3ServerChild, type S3Endpoint } from './s3-server.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

const MIGRATE_TIMEOUT_MS = 10 * 60_000;

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

/** Runs one migration through real worker processes and returns what migrate reported. */
export async function runCorrente(ctx: CorrenteContext, opts: RunOptions): Promise<CorrenteRun> {
  const tmp = makeTempDir('corrente-bench-run-');
  const prefix = claimPrefix(opts.label);
  const configPath = join(tmp, 'corrente.yaml');
  writeFileSync(configPath, `export:\n  verify: ${opts.verify}\n${opts.chunkMb ? `  chunkMb: ${opts.chunkMb}\n` : ''}`);
  const env = correnteEnv({ databaseUrl: ctx.databaseUrl, prefix, lakeDir: join(tmp, 'lake'), configPath, s3: opts.s3 });
  const workers: ChildHandle[] = [];
  try {
    for (let i = 0; i < opts.workers; i++) {
      workers.push(startChild(`${opts.label} worker ${i + 1}`, ctx.cliPath, ['worker'], { env, cwd: tmp, timeoutMs: MIGRATE_TIMEOUT_MS + 120_000 }));
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

    const migrateArgs = ['migrate', '--tables', opts.tables.join(','), '--wait', '--json'];
    const migrate = startChild(`${opts.label} migrate`, ctx.cliPath, migrateArgs, { env, cwd: tmp, timeoutMs: MIGRATE_TIMEOUT_MS });
    const exit = await migrate.exited;
    // Peaks first, while the workers are still alive.
    for (const w of workers) w.rss.captureHighWaterMark();
    const workerRepro = reproCommand(env, 'node', ['dist/cli/main.js', 'worker']);
    const repro = `${workerRepro} &  # then:\n${reproCommand(env, 'node', ['dist/cli/main.js', ...migrateArgs])}`;
    const parsed = readMigrateJson(migrate, exit, repro, workers);
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
    await releasePrefix(ctx.redis, prefix);
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
  notes.push(...stagesNote(t.stages, t.workDiskPeakBytes));
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
