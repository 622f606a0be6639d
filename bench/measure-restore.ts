/**
 * `restore`: puts the fact table back into Postgres from the lake, as a user runs it
 * (`node dist/cli/main.js restore core.fact_demand_daily --into ... --as ...`), beside the
 * limit: `psql \copy ... FROM` of the same rows as CSV into a table of the same definition
 * (primary key included). The export that feeds it is made first (`migrate --inline`) and
 * is not timed.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { runChild } from './proc.js';
import { FACT_TABLE } from './paths.js';
import { deletePrefix } from './redis.js';
import { kbToMb } from './rss.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

export const RESTORE_LIMIT_LABEL = 'restore limit (psql \\copy FROM)';
export const RESTORE_LIMIT_NO_PK_LABEL = 'psql \\copy FROM, no primary key';
export const RESTORE_LABEL = 'corrente restore';

interface RestoreJson {
  rows: number;
  verified: string;
  seconds: { total: number; load: number; index: number; verify: number };
}

export async function measureRestore(databaseUrl: string, cliPath: string, redis: Redis, rows: number): Promise<Measurement[]> {
  const tmp = makeTempDir('corrente-bench-restore-');
  const schema = `bench_restore_${process.pid}_${randomBytes(2).toString('hex')}`;
  const prefix = `corrente-bench-restore-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env = { DATABASE_URL: databaseUrl, LAKE_DIR: join(tmp, 'lake'), CORRENTE_REDIS_PREFIX: prefix, LOG_LEVEL: 'warn', MINIO_ENDPOINT: undefined, S3_ENDPOINT: undefined, AWS_ENDPOINT_URL: undefined };
  const psql = (name: string, command: string): ReturnType<typeof runChild> =>
    runChild(name, 'psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], { stdout: 'ignore' });
  try {
    log('restore: exporting the fact table into a temp lake (not timed)');
    await runChild('migrate (restore input)', cliPath, ['migrate', '--tables', FACT_TABLE, '--inline', '--wait', '--json'], { env, stdout: 'ignore', cwd: tmp });
    await psql('create schema', `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.limit_copy (LIKE ${FACT_TABLE} INCLUDING ALL); CREATE TABLE ${schema}.limit_bare (LIKE ${FACT_TABLE})`);
    const csv = join(tmp, 'fact.csv');
    await psql('psql \\copy TO (restore input)', `\\copy ${FACT_TABLE} TO '${csv}' WITH (FORMAT csv)`);

    log('restore: timed psql \\copy FROM');
    const limit = await psql('psql \\copy FROM', `\\copy ${schema}.limit_copy FROM '${csv}' WITH (FORMAT csv)`);
    const bare = await psql('psql \\copy FROM (no primary key)', `\\copy ${schema}.limit_bare FROM '${csv}' WITH (FORMAT csv)`);
    log(`restore: limit ${limit.exit.seconds.toFixed(2)} s (${bare.exit.seconds.toFixed(2)} s without the key); timed corrente restore`);
    const restore = await runChild('corrente restore', cliPath, ['restore', FACT_TABLE, '--into', databaseUrl, '--as', `${schema}.restored`, '--json'], { env, cwd: tmp });
    const out = JSON.parse(restore.handle.stdout) as RestoreJson;
    return [
      {
        key: 'restore',
        label: RESTORE_LIMIT_LABEL,
        rows,
        seconds: limit.exit.seconds,
        rowsPerSecond: rows / limit.exit.seconds,
        peakRssMb: null,
        outputBytes: null,
        factTableOnly: true,
        notes: ['psql \\copy FROM a CSV file into CREATE TABLE (LIKE ... INCLUDING ALL), primary key in place'],
        details: { command: limit.handle.repro },
      },
      {
        key: 'restore',
        label: RESTORE_LIMIT_NO_PK_LABEL,
        rows,
        seconds: bare.exit.seconds,
        rowsPerSecond: rows / bare.exit.seconds,
        peakRssMb: null,
        outputBytes: null,
        factTableOnly: true,
        notes: ['the same into CREATE TABLE (LIKE ...) without the key (the key costs little next to parsing and inserting the rows)'],
        details: { command: bare.handle.repro },
      },
      {
        key: 'restore',
        label: RESTORE_LABEL,
        rows: out.rows,
        seconds: restore.exit.seconds,
        rowsPerSecond: out.rows / restore.exit.seconds,
        peakRssMb: kbToMb(restore.handle.rss.peakKb),
        peakRssSource: `corrente restore (${restore.handle.rss.source})`,
        outputBytes: null,
        factTableOnly: true,
        notes: [
          `wall time of the CLI; inside: load ${out.seconds.load.toFixed(2)} s (DuckDB Parquet -> CSV beside COPY FROM STDIN), primary key ${out.seconds.index.toFixed(2)} s, checksums ${out.seconds.verify.toFixed(2)} s (${out.verified})`,
        ],
        details: { inside: out.seconds, command: restore.handle.repro },
      },
    ];
  } finally {
    await psql('drop schema', `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await deletePrefix(redis, prefix).catch(() => 0);
    await removeTempDir(tmp);
  }
}
