/**
 * After an incremental run's rows are written: finds deleted keys (`deletes: keydiff`) and
 * counts the table as the lake will hold it (full run + increments, latest row per primary
 * key, minus tombstones), to compare with the source's count in the same snapshot.
 */
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { liveKeysSql, openDuckSession, writeParquetFromCsv, type StateLayer } from '../duckdb/index.js';
import { tombstonesKey, type CurrentPointer, type IncrementalInfo, type ManifestFile } from '../lake/index.js';
import { buildKeyCopySql, copyOut, describeTarget, mapPgError, type PgClient } from '../postgres/index.js';
import { formatTableRef, quoteIdent, quoteLiteral, type TableSchema } from '../shared/table-schema.js';
import type { ExportDeps, ExportRequest } from './export-types.js';
import { sha256File } from './file-hash.js';

/** DuckDB memory for reconciling, MB (at least; `export.duckdbMemoryMb` when larger). */
const RECONCILE_MEMORY_MB = 512;

export interface ReconcileInput {
  schema: TableSchema;
  /** The full run and increments current when the window was planned. */
  base: CurrentPointer;
  /** This run's data files (already in the store). */
  files: readonly ManifestFile[];
  /** Counts read in the export snapshot (awaited last, so counting overlaps the lake's work). */
  source: Promise<{ total: number; window: number }>;
  /**
   * Rows the lake held before this run (the previous increment's reconciled count, or the
   * full run's rows): without keydiff, only this run's keys are then looked up in the lake.
   */
  previousLakeRows?: number;
  keydiff: boolean;
  /** The export's session: source keys are read in its snapshot. */
  client: PgClient;
  workDir: string;
  signal?: AbortSignal;
}

export interface ReconcileResult {
  reconciliation: NonNullable<IncrementalInfo['reconciliation']>;
  tombstones?: NonNullable<IncrementalInfo['tombstones']>;
  keydiffSeconds?: number;
}

/** Local paths of objects, downloading those the store cannot give in place. */
async function localFiles(deps: ExportDeps, bucket: string, keys: readonly string[], dir: string, tag: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for (const [i, key] of keys.entries()) {
    const local = deps.store.localPath(bucket, key);
    if (local !== undefined) {
      out.push(local);
      continue;
    }
    const dest = join(dir, `${tag}-${i}.parquet`);
    await deps.store.getFile(bucket, key, dest, { signal });
    out.push(dest);
  }
  return out;
}

/**
 * Reconciles the run (and writes its tombstones when `keydiff`).
 * @throws CorrenteError from Postgres, DuckDB or storage; nothing is published by it.
 */
export async function reconcileIncrement(deps: ExportDeps, req: ExportRequest, input: ReconcileInput): Promise<ReconcileResult> {
  const { schema, base, workDir, signal } = input;
  const bucket = deps.buckets[req.layer];
  const prior: StateLayer[] = [{ files: await localFiles(deps, bucket, base.files, workDir, 'base', signal) }];
  for (const [i, inc] of (base.increments ?? []).entries()) {
    prior.push({ files: await localFiles(deps, bucket, inc.files, workDir, `inc${i}`, signal), tombstones: await localFiles(deps, bucket, inc.tombstones ?? [], workDir, `del${i}`, signal) });
  }
  const current = await localFiles(deps, bucket, input.files.map((f) => f.key), workDir, 'new', signal);
  const keys = schema.primaryKey.map(quoteIdent).join(', ');
  // Key sets of millions of rows: a budget below this spills the hash joins to disk.
  const duck = await openDuckSession({ memoryMb: Math.max(deps.config.duckdbMemoryMb, RECONCILE_MEMORY_MB), threads: deps.config.verifyThreads, tempDir: join(workDir, 'duckdb-reconcile') });
  try {
    const count = async (sql: string): Promise<number> => Number((await duck.rows(`SELECT count(*)::VARCHAR AS n FROM (${sql})`, signal))[0]!.n);
    await duck.run(`CREATE TEMP TABLE new_keys AS SELECT ${keys} FROM read_parquet([${current.map(quoteLiteral).join(', ')}], hive_partitioning = false)`, signal);
    const reconciliation: ReconcileResult['reconciliation'] = { windowSourceRows: 0, windowWrittenRows: input.files.reduce((n, f) => n + f.rows, 0), sourceRows: 0, lakeRows: 0, status: 'matched' };
    let result: ReconcileResult = { reconciliation };
    if (input.previousLakeRows !== undefined) {
      // Only this run's keys are looked up in the lake: those already live there replace a row.
      const replacing = await count(liveKeysSql(prior, schema.primaryKey, 'new_keys'));
      reconciliation.lakeRows = input.previousLakeRows + (await count('SELECT * FROM new_keys')) - replacing;
    } else {
      reconciliation.lakeRows = await count(`SELECT ${keys} FROM (${liveKeysSql(prior, schema.primaryKey)}) UNION SELECT ${keys} FROM new_keys`);
    }
    if (input.keydiff) {
      const t0 = performance.now();
      const sourceKeys = await readSourceKeys(deps, input, duck, workDir);
      // Keys some earlier layer holds as a row and the source no longer has (one hash join
      // of all keys); those still live in the lake are the new deletions.
      const rowFiles = prior.flatMap((l) => l.files);
      await duck.run(
        `CREATE TEMP TABLE gone AS SELECT DISTINCT ${keys} FROM read_parquet([${rowFiles.map(quoteLiteral).join(', ')}], hive_partitioning = false) AS lake ANTI JOIN read_parquet(${quoteLiteral(sourceKeys)}) AS source USING (${keys})`,
        signal,
      );
      const path = join(workDir, 'tombstones.parquet');
      await duck.run(`COPY (${liveKeysSql(prior, schema.primaryKey, 'gone')} ORDER BY ${keys}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`, signal);
      const rows = await count(`SELECT * FROM read_parquet(${quoteLiteral(path)})`);
      const key = tombstonesKey(req.table, req.runId);
      const [size, sha256] = await Promise.all([stat(path).then((st) => st.size), sha256File(path)]);
      await deps.store.putFile(bucket, key, path, { signal });
      result = {
        reconciliation: { ...reconciliation, lakeRows: reconciliation.lakeRows - rows },
        tombstones: { key, uri: deps.store.uri(bucket, key), rows, bytes: size, sha256 },
        keydiffSeconds: (performance.now() - t0) / 1000,
      };
    }
    const r = result.reconciliation;
    const source = await input.source;
    r.windowSourceRows = source.window;
    r.sourceRows = source.total;
    r.status = r.lakeRows === r.sourceRows && r.windowSourceRows === r.windowWrittenRows ? 'matched' : 'mismatched';
    return result;
  } finally {
    duck.close();
  }
}

/** The source's primary keys in the export snapshot, as a Parquet file of the key columns. */
async function readSourceKeys(deps: ExportDeps, input: ReconcileInput, duck: Awaited<ReturnType<typeof openDuckSession>>, workDir: string): Promise<string> {
  const { schema } = input;
  const keySchema: TableSchema = { ...schema, columns: schema.primaryKey.map((k) => schema.columns.find((c) => c.name === k)!) };
  const csv = join(workDir, 'source-keys.csv');
  try {
    await pipeline(
      copyOut(input.client, buildKeyCopySql(schema)),
      async function* (batches) {
        for await (const b of batches as AsyncIterable<{ data: Buffer }>) yield b.data;
      },
      createWriteStream(csv),
      ...(input.signal ? [{ signal: input.signal }] : []),
    );
  } catch (err) {
    throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(schema.table) });
  }
  const out = join(workDir, 'source-keys.parquet');
  await writeParquetFromCsv(duck, keySchema, csv, out, { compression: 'snappy', rowGroupRows: 122_880, maxLineBytes: 1 << 20 }, input.signal);
  return out;
}
