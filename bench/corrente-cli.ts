/**
 * What every measurement that runs the corrente CLI shares: the environment it runs with
 * (one Redis prefix per run, a private lake, only the storage endpoint the harness chose),
 * the clean-up of a run's Redis keys (also on Ctrl-C), and reading `migrate --json`.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ChildFailedError, type ChildExit, type ChildHandle } from './proc.js';
import { deletePrefix, openRedis } from './redis.js';
import type { S3Endpoint } from './s3-server.js';
import { log } from './types.js';

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
  /** Most bytes the export held in its work directory at once (absent before 2026-11-29). */
  workDiskPeakBytes?: number | null;
  error?: { code: string; message: string };
}

export interface MigrateJson {
  runId: string;
  ok: boolean;
  tables: MigrateTableJson[];
}

/** Redis prefixes of runs in progress, for clean-up on Ctrl-C. */
const activePrefixes = new Set<string>();

function sanitize(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** A Redis prefix of its own for one run, registered for clean-up until `releasePrefix`. */
export function claimPrefix(label: string): string {
  const prefix = `corrente-bench-${process.pid}-${randomBytes(3).toString('hex')}-${sanitize(label)}`;
  activePrefixes.add(prefix);
  return prefix;
}

/** Deletes the run's keys and forgets the prefix. */
export async function releasePrefix(redis: Redis, prefix: string): Promise<void> {
  await deletePrefix(redis, prefix).catch((e: Error) => log(`could not delete Redis keys ${prefix}:*: ${e.message}`));
  activePrefixes.delete(prefix);
}

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

export interface CorrenteEnvOptions {
  databaseUrl: string;
  prefix: string;
  lakeDir: string;
  configPath: string;
  s3?: S3Endpoint;
}

/** The environment of a corrente process run by the harness. */
export function correnteEnv(o: CorrenteEnvOptions): Record<string, string | undefined> {
  return {
    DATABASE_URL: o.databaseUrl,
    CORRENTE_REDIS_PREFIX: o.prefix,
    LAKE_DIR: o.lakeDir,
    LOG_LEVEL: 'warn',
    CORRENTE_CONFIG: o.configPath,
    // Only the endpoint the harness chooses: a developer's shell must not switch local runs to S3.
    AWS_ENDPOINT_URL: undefined,
    S3_ENDPOINT: undefined,
    MINIO_ENDPOINT: o.s3?.endpoint,
    MINIO_ACCESS_KEY: o.s3?.accessKey,
    MINIO_SECRET_KEY: o.s3?.secretKey,
    // Nor change the settings measured.
    PG_MAX_CONCURRENT_EXPORTS: undefined,
    WORKER_CONCURRENCY: undefined,
  };
}

/**
 * The parsed `migrate --json` of a finished migrate process; throws ChildFailedError (with
 * the tables' errors, the stderr tails and `repro`) unless it exited 0 with every table ok.
 */
export function readMigrateJson(migrate: ChildHandle, exit: ChildExit, repro: string, workers: readonly ChildHandle[] = []): MigrateJson {
  let parsed: MigrateJson | undefined;
  try {
    parsed = JSON.parse(migrate.stdout) as MigrateJson;
  } catch {
    parsed = undefined;
  }
  if (parsed && exit.code === 0 && parsed.ok) return parsed;
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

/** `read 3.10 (paused 1.20), convert 4.00, upload 0.20, checksum wait 0.00 s; temp disk peak 13.0 MB`. */
export function stagesNote(stages: Record<string, number> | null, workDiskPeakBytes?: number | null): string[] {
  if (!stages) return [];
  const f = (k: string): string => (stages[k] ?? 0).toFixed(2);
  const disk = typeof workDiskPeakBytes === 'number' ? `; temp disk peak ${(workDiskPeakBytes / 1e6).toFixed(1)} MB` : '';
  return [`stages: read ${f('read')} (paused ${f('readPaused')}), convert ${f('convert')}, upload ${f('upload')}, checksum wait ${f('checksumWait')} s${disk}`];
}
