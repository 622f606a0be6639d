/**
 * Restore (rollback): puts a table back into Postgres from a published run. The table is
 * recreated from the manifest (types, NOT NULL, primary key, missing schema and
 * user-defined types), DuckDB turns the Parquet files back into Postgres CSV, and one
 * `COPY FROM STDIN` loads them, all in one transaction that commits only after the row
 * count and the per-column checksums match the ones taken from the source at export time.
 *
 * A table exported with `incremental:` is restored as readers see it: its full run merged
 * with the increments of its pointer (`lake-state.ts`). Every file of the chain must then
 * match the sha256 its manifest recorded (checked before Postgres is touched), and the
 * restored table must match the fingerprint DuckDB computes over the merged rows (the
 * export-time fingerprints each cover one run, not the merge), and the row count the last
 * increment reconciled with the source.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportConfig } from '../config/index.js';
import { fingerprintRelation, openDuckSession, writePgCsvFromParquet, writePgCsvFromRelation } from '../duckdb/index.js';
import { MANIFEST_FILE, manifestKey, placeOfKey, readCurrentPointer, readManifest, runPrefix, schemaOfManifest, tablePrefix, type CurrentPointer, type Manifest } from '../lake/index.js';
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
import type { TableFingerprint } from '../shared/fingerprint.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { formatTableRef, type TableRef, type TableSchema } from '../shared/table-schema.js';
import { compareFingerprints } from './compare-fingerprints.js';
import { sha256File } from './file-hash.js';
import { incrementManifests, pointerUpTo, stateRelationSql } from './lake-state.js';
import { readMemoryMb } from './read-memory.js';
import { localStateOf, type LakeInput } from './transform-inputs.js';
import { currentManifest } from './verify-published.js';
import { makeWorkDir } from './work-dir.js';

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
  /**
   * A published run; default: the current state (for an incremental table, its full run
   * merged with every increment). A full run restores that run alone; an increment of the
   * current chain restores the state as of that increment.
   */
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
  /** The full run restored (with `increments` on top of it). */
  runId: string;
  /** Snapshot of the last layer restored (the last increment's, when there are increments). */
  snapshotTime: string;
  /** Incremental runs merged on top of `runId`, oldest first (empty for a full run alone). */
  increments: string[];
  rows: number;
  /**
   * `checksums`: rows and every column checksum matched (the export-time source's, or, with
   * increments, DuckDB's over the merged rows); `rows`: the manifest has no checksums, the
   * row count matched.
   */
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
  const { manifest, increments, pointer } = await loadRun(deps.store, req);
  for (const m of [manifest, ...increments]) await assertFilesPresent(deps.store, m);
  // The last layer describes the table as it is now (columns may have changed since the full run).
  const latest = increments.at(-1) ?? manifest;
  const target = req.as ?? manifest.table;
  const shown = formatTableRef(target);
  const where = describeTarget(req.intoUrl);
  const pool = createPgPool({ url: req.intoUrl, connectTimeoutMs: 10_000 }, logger);
  const work = await makeWorkDir(deps.config.workDir, 'restore');
  let client: PgClient | undefined;
  let broken = false;
  try {
    const merged = pointer ? await localMergedState(deps, req, manifest, pointer, increments, work) : undefined;
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
    for (const t of latest.types ?? []) {
      if ((await sql('SELECT to_regtype($1) IS NOT NULL AS e', [t.name]))[0]!.e === true) continue;
      await sql(t.sql);
      createdTypes.push(t.name);
    }
    const staged: TableRef = exists ? { schema: target.schema, name: `corrente_restore_${randomBytes(4).toString('hex')}` } : target;
    const schema = schemaOfManifest(latest);
    await sql(createTableSql(staged, schema.columns)).catch((err: unknown) => {
      throw missingType(err, latest, shown);
    });

    const loadStarted = Date.now();
    const loaded: { copied: number; expected?: TableFingerprint } = merged ? await loadMergedRows(deps, merged, latest, schema, work, c, staged, req, where) : { copied: await loadRows(deps, manifest, schema, work, c, staged, req, where) };
    const copied = loaded.copied;
    const load = (Date.now() - loadStarted) / 1000;
    const expectedRows = expectedRowCount(manifest, increments);
    if (expectedRows !== undefined && copied !== expectedRows) {
      throw new CorrenteError('VERIFY_MISMATCH', `Restore of ${shown} loaded ${copied} rows, the ${increments.length > 0 ? 'lake held' : 'run has'} ${expectedRows}; nothing was committed`, {
        table: shown,
        runId: latest.runId,
        hint: 'Check the run with: corrente verify',
      });
    }
    const indexStarted = Date.now();
    if (schema.primaryKey.length > 0) await sql(addPrimaryKeySql(staged, schema.primaryKey, exists ? `${staged.name}_pkey` : undefined));
    const index = (Date.now() - indexStarted) / 1000;

    const verifyStarted = Date.now();
    const verified = await verifyRestored(latest, loaded.expected ?? latest.sourceFingerprint, schema, staged, sql, shown);
    const verify = (Date.now() - verifyStarted) / 1000;

    if (exists) for (const s of swapTablesSql(staged, target, schema.primaryKey.length > 0 ? `${staged.name}_pkey` : undefined)) await sql(s);
    await sql('COMMIT');
    const result: RestoreResult = {
      source: manifest.table,
      target,
      runId: manifest.runId,
      snapshotTime: latest.source.snapshotTime,
      increments: increments.map((m) => m.runId),
      rows: copied,
      verified,
      replaced: exists,
      createdTypes,
      seconds: { total: (Date.now() - started) / 1000, load, index, verify },
    };
    logger.info({ table: shown, runId: manifest.runId, increments: result.increments.length, rows: copied, seconds: result.seconds }, 'restore committed');
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

/** What a restore loads: a full run, and the increments (with the pointer cut after the last) merged on top of it. */
interface RestoreSource {
  manifest: Manifest;
  increments: Manifest[];
  /** Set when there are increments: the chain up to the last one restored. */
  pointer?: CurrentPointer;
}

/** The requested run (with, for an increment, the chain up to it), or the current state. */
async function loadRun(store: ObjectStore, req: RestoreRequest): Promise<RestoreSource> {
  const shown = formatTableRef(req.table);
  const withChain = async (manifest: Manifest, pointer: CurrentPointer | undefined): Promise<RestoreSource> => {
    const chain = pointer && pointer.runId === manifest.runId && (pointer.increments?.length ?? 0) > 0 ? pointer : undefined;
    return chain ? { manifest, pointer: chain, increments: await incrementManifests(store, req.bucket, chain, req.signal) } : { manifest, increments: [] };
  };
  if (req.runId === undefined) {
    const manifest = await currentManifest(store, req.bucket, req.table, req.signal);
    return withChain(manifest, await readCurrentPointer(store, req.bucket, req.table, req.signal));
  }
  const manifest = await readManifest(store, req.bucket, manifestKey(req.table, req.runId), req.signal);
  if (manifest?.kind === 'incremental') {
    // An increment alone holds only the rows of its window: restore the chain up to it.
    const pointer = await readCurrentPointer(store, req.bucket, req.table, req.signal);
    const cut = pointer ? pointerUpTo(pointer, req.runId) : undefined;
    const base = cut ? await readManifest(store, req.bucket, cut.manifestKey, req.signal) : undefined;
    if (!cut || !base) {
      throw new CorrenteError('RUN_NOT_FOUND', `Run ${req.runId} of ${shown} is an increment outside the current chain of increments, so the rows it builds on are unknown; nothing was changed`, {
        table: shown,
        runId: req.runId,
        hint: `Restore its full run with --run ${manifest.incremental?.baseRunId ?? '<full run id>'}, or the current state without --run`,
      });
    }
    return withChain(base, cut);
  }
  if (manifest) return { manifest, increments: [] };
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
  const wanted = [...manifest.files, ...(manifest.incremental?.tombstones ? [manifest.incremental.tombstones] : [])];
  const missing = wanted.filter((f) => !present.has(f.key));
  if (missing.length > 0) {
    throw new CorrenteError('RUN_NOT_FOUND', `Run ${manifest.runId} of ${formatTableRef(manifest.table)} is missing ${missing.length} of its ${wanted.length} data files (${missing[0]!.key}); nothing was changed`, {
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
  const duck = await openDuckSession({ memoryMb: readMemoryMb(deps.config.duckdbMemoryMb, [manifest]), threads: req.threads ?? 1, tempDir: work });
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
        yield* fileBytes(csv);
      } finally {
        await rm(csv, { force: true });
      }
    }
  }
  try {
    return await copyCsvIn(client, staged, schema, csvBytes(), req, where);
  } finally {
    duck.close();
  }
}

/** A file's bytes, 1 MB at a time. */
async function* fileBytes(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
}

/** Streams CSV into `staged` with one COPY; a Postgres failure becomes one mapped error. */
async function copyCsvIn(client: PgClient, staged: TableRef, schema: TableSchema, csv: AsyncIterable<Buffer>, req: RestoreRequest, where: string): Promise<number> {
  try {
    return await copyIn(client, copyInSql(staged, schema.columns.map((c) => c.name)), csv, req.signal);
  } catch (err) {
    if (isCorrenteError(err)) throw err;
    throw mapPgError(err, where, { table: formatTableRef(staged) });
  }
}

/**
 * Rows the restore must load: the run's total, or, with increments, the count the last one
 * reconciled with the source (undefined when that count did not match the source, e.g.
 * deletes not tracked: the fingerprint over the merge still checks the load).
 */
function expectedRowCount(manifest: Manifest, increments: readonly Manifest[]): number | undefined {
  const last = increments.at(-1);
  if (!last) return manifest.totals.rows;
  const rec = last.incremental?.reconciliation;
  return rec?.status === 'matched' ? rec.lakeRows : undefined;
}

/**
 * The files of the chain as local paths (remote ones downloaded into `work`), each checked
 * against the sha256 its manifest recorded: a changed full run, increment or tombstone file
 * fails here, before Postgres is touched.
 */
async function localMergedState(deps: RestoreDeps, req: RestoreRequest, manifest: Manifest, pointer: CurrentPointer, increments: readonly Manifest[], work: string): Promise<LakeInput> {
  const buckets = { bronze: req.bucket, silver: req.bucket, gold: req.bucket };
  const input = await localStateOf({ store: deps.store, buckets, cacheDir: join(work, 'lake') }, { layer: 'bronze', manifest, pointer }, req.signal);
  const expected = [
    ...manifest.files.map((f, i) => ({ run: manifest.runId, key: f.key, sha256: f.sha256, path: input.paths[i] })),
    ...increments.flatMap((m, n) => {
      const inc = input.increments?.[n];
      const tomb = m.incremental?.tombstones;
      return [...m.files.map((f, i) => ({ run: m.runId, key: f.key, sha256: f.sha256, path: inc?.paths[i] })), ...(tomb ? [{ run: m.runId, key: tomb.key, sha256: tomb.sha256, path: inc?.tombstones[0] }] : [])];
    }),
  ];
  for (const f of expected) {
    if (f.path !== undefined && (await sha256File(f.path)) === f.sha256) continue;
    throw new CorrenteError('VERIFY_MISMATCH', `${req.bucket}/${f.key} (run ${f.run} of ${formatTableRef(manifest.table)}) is not the file that was exported and verified (sha256 differs from its manifest); nothing was changed`, {
      table: formatTableRef(manifest.table),
      runId: f.run,
      hint: 'Check the table with corrente verify; re-export it in full (corrente migrate --full-refresh) or restore an older full run with --run',
    });
  }
  return input;
}

/**
 * Writes the merged rows (`latestRowsSql`) as one CSV and streams it into one COPY; while
 * Postgres loads, a second DuckDB session fingerprints the same merge, the expected value
 * the restored table is checked against.
 */
async function loadMergedRows(
  deps: RestoreDeps,
  input: LakeInput,
  latest: Manifest,
  schema: TableSchema,
  work: string,
  client: PgClient,
  staged: TableRef,
  req: RestoreRequest,
  where: string,
): Promise<{ copied: number; expected: TableFingerprint }> {
  const memoryMb = readMemoryMb(deps.config.duckdbMemoryMb, [input.manifest, latest]);
  const relation = stateRelationSql(input, latest.columns);
  const csv = join(work, 'merged.csv');
  const duck = await openDuckSession({ memoryMb, threads: req.threads ?? 1, tempDir: work });
  let expected: Promise<TableFingerprint> | undefined;
  try {
    await writePgCsvFromRelation(duck, schema, relation, csv, req.signal);
    expected = fingerprintRelation(duck, schema, relation, req.signal, { textChecksum: latest.textChecksum });
    expected.catch(() => {});
    const copied = await copyCsvIn(client, staged, schema, fileBytes(csv), req, where);
    return { copied, expected: await expected };
  } finally {
    await expected?.catch(() => {});
    duck.close();
    await rm(csv, { force: true });
  }
}

/**
 * Row count and every column checksum of the restored table against `expected`: the
 * export-time source's (a full run), or DuckDB's over the merged rows (with increments).
 */
async function verifyRestored(
  manifest: Manifest,
  expected: TableFingerprint | undefined,
  schema: TableSchema,
  staged: TableRef,
  sql: (text: string) => Promise<Record<string, unknown>[]>,
  shown: string,
): Promise<RestoreResult['verified']> {
  if (!expected) return 'rows';
  const options = { textChecksum: manifest.textChecksum };
  const stagedSchema = { ...schema, table: staged };
  const row = (await sql(buildFingerprintSql(stagedSchema, undefined, options)))[0]!;
  const restored = readFingerprintRow(stagedSchema, row, options);
  const diffs = compareFingerprints(schema, expected, restored).map((d) => d.replace(/\bparquet\b/, 'restored'));
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
