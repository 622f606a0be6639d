/**
 * Restore (rollback): puts a table back into Postgres from a published run. The table is
 * recreated from the manifest (types, NOT NULL, primary key, missing schema and
 * user-defined types), DuckDB turns the Parquet files back into Postgres CSV, and one
 * `COPY FROM STDIN` loads them, all in one transaction that commits only after the row
 * count and the per-column checksums match the ones taken from the source at export time.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportConfig } from '../config/index.js';
import { memoryNeededMb, openDuckSession, writePgCsvFromParquet } from '../duckdb/index.js';
import { MANIFEST_FILE, manifestKey, placeOfKey, readManifest, runPrefix, schemaOfManifest, tablePrefix, type Manifest } from '../lake/index.js';
import {
  addPrimaryKeySql,
  buildFingerprintSql,
  copyIn,
  copyInSql,
  createPgPool,
  createSchemaSql,
  createTableSql,
  describeTarget,
  EXPORT_SESSION_SETTINGS,
  mapPgError,
  qualifiedRef,
  readFingerprintRow,
  swapTablesSql,
  type PgClient,
} from '../postgres/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError, isCorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';
import { compareFingerprints } from './compare-fingerprints.js';
import { currentManifest } from './verify-published.js';

export interface RestoreDeps {
  store: ObjectStore;
  config: Pick<ExportConfig, 'duckdbMemoryMb' | 'workDir'>;
  logger?: Logger;
}

export interface RestoreRequest {
  /** Bucket of the layer the table was published in. */
  bucket: string;
  /** The exported table (its key prefix in the bucket). */
  table: TableRef;
  /** A published run; default: the current one. */
  runId?: string;
  /** Connection URL of the database to restore into. */
  intoUrl: string;
  /** Name to restore as; default: the exported table's own name. */
  as?: TableRef;
  /** Replace an existing table (only after the new one verified). */
  replace?: boolean;
  /** DuckDB threads converting Parquet to CSV. @defaultValue 1 */
  threads?: number;
  signal?: AbortSignal;
}

export interface RestoreResult {
  source: TableRef;
  target: TableRef;
  runId: string;
  snapshotTime: string;
  rows: number;
  /** `checksums`: rows and every column checksum matched; `rows`: the manifest has no checksums, the row count matched. */
  verified: 'checksums' | 'rows';
  /** True when an existing table was replaced. */
  replaced: boolean;
  /** User-defined types that were missing and created. */
  createdTypes: string[];
  seconds: { total: number; load: number; index: number; verify: number };
}

/**
 * @throws CorrenteError `RUN_NOT_FOUND` (no such run, or its files were removed),
 *   `TABLE_EXISTS` (without `replace`), `POSTGRES_AUTH`/`POSTGRES_UNREACHABLE` (the target),
 *   `VERIFY_MISMATCH` (nothing is committed).
 */
export async function restoreTable(deps: RestoreDeps, req: RestoreRequest): Promise<RestoreResult> {
  const started = Date.now();
  const logger = deps.logger ?? noopLogger;
  const manifest = await loadRun(deps.store, req);
  await assertFilesPresent(deps.store, manifest);
  const target = req.as ?? manifest.table;
  const shown = formatTableRef(target);
  const where = describeTarget(req.intoUrl);
  const pool = createPgPool({ url: req.intoUrl, connectTimeoutMs: 10_000 }, logger);
  const work = await mkdtemp(join(deps.config.workDir ?? tmpdir(), 'corrente-restore-'));
  let client: PgClient | undefined;
  let broken = false;
  try {
    client = await pool.connect().catch((err: unknown) => {
      throw forInto(mapPgError(err, where, { table: shown }));
    });
    const c = client;
    const sql = async (text: string, values?: unknown[]): Promise<Record<string, unknown>[]> => {
      try {
        return (await c.query(text, values)).rows as Record<string, unknown>[];
      } catch (err) {
        throw mapPgError(err, where, { table: shown });
      }
    };
    await sql('BEGIN');
    for (const [name, value] of Object.entries({ ...EXPORT_SESSION_SETTINGS, client_encoding: 'UTF8' })) await sql('SELECT set_config($1, $2, true)', [name, value]);
    const exists = (await sql('SELECT to_regclass($1) IS NOT NULL AS e', [qualifiedRef(target)]))[0]!.e === true;
    if (exists && !req.replace) {
      throw new CorrenteError('TABLE_EXISTS', `Table ${shown} already exists in ${where}; nothing was changed`, {
        table: shown,
        hint: `Add --replace to swap it out once the restored copy verified, or restore next to it with --as ${target.schema}.${target.name}_restored`,
      });
    }
    await sql(createSchemaSql(target.schema));
    const createdTypes: string[] = [];
    for (const t of manifest.types ?? []) {
      if ((await sql('SELECT to_regtype($1) IS NOT NULL AS e', [t.name]))[0]!.e === true) continue;
      await sql(t.sql);
      createdTypes.push(t.name);
    }
    const staged: TableRef = exists ? { schema: target.schema, name: `corrente_restore_${randomBytes(4).toString('hex')}` } : target;
    const schema = schemaOfManifest(manifest);
    await sql(createTableSql(staged, schema.columns)).catch((err: unknown) => {
      throw missingType(err, manifest, shown);
    });

    const loadStarted = Date.now();
    const copied = await loadRows(deps, manifest, schema, work, c, staged, req, where);
    const load = (Date.now() - loadStarted) / 1000;
    if (copied !== manifest.totals.rows) {
      throw new CorrenteError('VERIFY_MISMATCH', `Restore of ${shown} loaded ${copied} rows, the run has ${manifest.totals.rows}; nothing was committed`, {
        table: shown,
        runId: manifest.runId,
        hint: 'Check the run with: corrente verify',
      });
    }
    const indexStarted = Date.now();
    if (schema.primaryKey.length > 0) await sql(addPrimaryKeySql(staged, schema.primaryKey, exists ? `${staged.name}_pkey` : undefined));
    const index = (Date.now() - indexStarted) / 1000;

    const verifyStarted = Date.now();
    const verified = await verifyRestored(manifest, schema, staged, sql, shown);
    const verify = (Date.now() - verifyStarted) / 1000;

    if (exists) for (const s of swapTablesSql(staged, target, schema.primaryKey.length > 0 ? `${staged.name}_pkey` : undefined)) await sql(s);
    await sql('COMMIT');
    const result: RestoreResult = {
      source: manifest.table,
      target,
      runId: manifest.runId,
      snapshotTime: manifest.source.snapshotTime,
      rows: copied,
      verified,
      replaced: exists,
      createdTypes,
      seconds: { total: (Date.now() - started) / 1000, load, index, verify },
    };
    logger.info({ table: shown, runId: manifest.runId, rows: copied, seconds: result.seconds }, 'restore committed');
    return result;
  } catch (err) {
    if (client) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
    }
    throw err;
  } finally {
    client?.release(broken ? true : undefined);
    await pool.end();
    await rm(work, { recursive: true, force: true });
  }
}

/** The manifest of the requested run, or of the current one. */
async function loadRun(store: ObjectStore, req: RestoreRequest): Promise<Manifest> {
  if (req.runId === undefined) return currentManifest(store, req.bucket, req.table, req.signal);
  const manifest = await readManifest(store, req.bucket, manifestKey(req.table, req.runId), req.signal);
  if (manifest) return manifest;
  const shown = formatTableRef(req.table);
  const runs = await publishedRuns(store, req.bucket, req.table);
  throw new CorrenteError('RUN_NOT_FOUND', `Run ${req.runId} of ${shown} is not published in bucket ${req.bucket} (removed by gc, never published, or another layer)`, {
    table: shown,
    runId: req.runId,
    hint: runs.length > 0 ? `Published runs: ${runs.slice(-5).join(', ')}; omit --run for the current one` : `Nothing is published for ${shown}; check --layer`,
  });
}

/** Run ids with a `_manifest.json`, oldest first by id. */
async function publishedRuns(store: ObjectStore, bucket: string, table: TableRef): Promise<string[]> {
  const out: string[] = [];
  const prefix = tablePrefix(table);
  for await (const o of store.list(bucket, prefix)) {
    const place = placeOfKey(o.key);
    if (place.kind === 'run' && place.tablePrefix === prefix && place.name === MANIFEST_FILE) out.push(place.runId);
  }
  return out.sort();
}

/** Fails before Postgres is touched when a data file of the run is gone. */
async function assertFilesPresent(store: ObjectStore, manifest: Manifest): Promise<void> {
  const present = new Set<string>();
  for await (const o of store.list(manifest.bucket, runPrefix(manifest.table, manifest.runId))) present.add(o.key);
  const missing = manifest.files.filter((f) => !present.has(f.key));
  if (missing.length > 0) {
    throw new CorrenteError('RUN_NOT_FOUND', `Run ${manifest.runId} of ${formatTableRef(manifest.table)} is missing ${missing.length} of its ${manifest.files.length} data files (${missing[0]!.key}); nothing was changed`, {
      table: formatTableRef(manifest.table),
      runId: manifest.runId,
      hint: 'The files were removed (by gc or by hand); restore another run with --run, or re-export the table',
    });
  }
}

/**
 * Converts file after file to CSV (DuckDB, one ahead) and streams them into one COPY.
 * Remote files are downloaded first; local ones are read in place.
 */
async function loadRows(
  deps: RestoreDeps,
  manifest: Manifest,
  schema: TableSchema,
  work: string,
  client: PgClient,
  staged: TableRef,
  req: RestoreRequest,
  where: string,
): Promise<number> {
  const widest = Math.max(0, ...manifest.files.map((f) => f.maxRowBytes ?? 0));
  const duck = await openDuckSession({ memoryMb: Math.max(deps.config.duckdbMemoryMb, memoryNeededMb({ maxLineBytes: widest })), threads: req.threads ?? 1, tempDir: work });
  const convert = async (i: number): Promise<string> => {
    const f = manifest.files[i]!;
    let parquet = deps.store.localPath(manifest.bucket, f.key);
    if (parquet === undefined) {
      parquet = join(work, `part-${i}.parquet`);
      await deps.store.getFile(manifest.bucket, f.key, parquet, { signal: req.signal });
    }
    const csv = join(work, `part-${i}.csv`);
    await writePgCsvFromParquet(duck, schema, [parquet], csv, req.signal);
    if (parquet.startsWith(work)) await rm(parquet, { force: true });
    return csv;
  };
  async function* csvBytes(): AsyncGenerator<Buffer> {
    let next: Promise<string> | undefined = manifest.files.length > 0 ? convert(0) : undefined;
    for (let i = 0; next; i++) {
      const csv = await next;
      // Convert the next file while this one streams into Postgres.
      next = i + 1 < manifest.files.length ? convert(i + 1) : undefined;
      next?.catch(() => {});
      try {
        for await (const chunk of createReadStream(csv, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
      } finally {
        await rm(csv, { force: true });
      }
    }
  }
  try {
    return await copyIn(client, copyInSql(staged, schema.columns.map((c) => c.name)), csvBytes(), req.signal);
  } catch (err) {
    if (isCorrenteError(err)) throw err;
    throw mapPgError(err, where, { table: formatTableRef(staged) });
  } finally {
    duck.close();
  }
}

/** Row count and every column checksum of the restored table against the export-time source. */
async function verifyRestored(
  manifest: Manifest,
  schema: TableSchema,
  staged: TableRef,
  sql: (text: string) => Promise<Record<string, unknown>[]>,
  shown: string,
): Promise<RestoreResult['verified']> {
  if (!manifest.sourceFingerprint) return 'rows';
  const options = { textChecksum: manifest.textChecksum };
  const stagedSchema = { ...schema, table: staged };
  const row = (await sql(buildFingerprintSql(stagedSchema, undefined, options)))[0]!;
  const restored = readFingerprintRow(stagedSchema, row, options);
  const diffs = compareFingerprints(schema, manifest.sourceFingerprint, restored).map((d) => d.replace(/\bparquet\b/, 'restored'));
  if (diffs.length > 0) {
    throw new CorrenteError('VERIFY_MISMATCH', `Restored ${shown} differs from the exported snapshot: ${diffs.slice(0, 3).join('; ')}${diffs.length > 3 ? ` (+${diffs.length - 3} more)` : ''}; nothing was committed`, {
      table: shown,
      runId: manifest.runId,
      hint: 'Check the run with corrente verify; report the table definition if it verifies',
    });
  }
  return 'checksums';
}

/** The login and unreachable hints name `--into`, the URL this command connects with. */
function forInto(err: Error): Error {
  if (!isCorrenteError(err) || !err.hint?.includes('DATABASE_URL')) return err;
  return new CorrenteError(err.code, err.message, { ...err.context, cause: err.cause, hint: err.hint.replace(/DATABASE_URL/g, '--into') });
}

/** CREATE TABLE failed on a type the target lacks and the manifest cannot recreate. */
function missingType(err: unknown, manifest: Manifest, shown: string): Error {
  if (!isCorrenteError(err) || !/type .* does not exist/.test(err.message)) return err as Error;
  return new CorrenteError('CONFIG_INVALID', `Cannot recreate ${shown}: ${err.message.replace(/^PostgreSQL error \w+: /, '')}`, {
    table: shown,
    hint: manifest.types
      ? 'Install the extension that provides the type in the target database, then retry'
      : 'This run predates recorded type definitions: create the type in the target database first (or re-export the table), then retry',
  });
}
