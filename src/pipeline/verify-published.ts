/**
 * Re-verifies what readers currently see for a table: the published Parquet files against
 * the fingerprint taken at export time (integrity), and against the live source (drift).
 *
 * For a table exported with `incremental:`, integrity checks each run of the chain against
 * its own export-time fingerprint (the full run's files against the whole table then, each
 * increment's against the rows of its window), and drift compares the merged state (full
 * run + increments, latest row per key, tombstones removed) with the live source.
 */
import { rm } from 'node:fs/promises';
import type { ExportConfig } from '../config/index.js';
import { fingerprintParquet, fingerprintRelation, openDuckSession } from '../duckdb/index.js';
import { readCurrentPointer, readManifest, schemaOfManifest, type Manifest } from '../lake/index.js';
import { buildFingerprintSql, describeTarget, mapPgError, openReadSession, readFingerprintRow, type PgPool } from '../postgres/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableFingerprint } from '../shared/fingerprint.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';
import { compareFingerprints } from './compare-fingerprints.js';
import { incrementManifests, stateRelationSql } from './lake-state.js';
import { readMemoryMb } from './read-memory.js';
import { localStateOf } from './transform-inputs.js';
import { fingerprintRunFiles } from './verify-run.js';
import { makeWorkDir } from './work-dir.js';

export interface PublishedCheck {
  /** The current full run. */
  manifest: Manifest;
  /** Incremental runs merged on top of it, oldest first (empty without `incremental:`). */
  increments: Manifest[];
  /** Rows readers see: the full run's, or the merged state's. */
  rows: number;
  /**
   * Differences between the files and the export-time source fingerprint (must be empty);
   * with increments, each run against its own, lines of an increment prefixed with its run id.
   */
  integrity: string[];
  /** Differences between what readers see and the source as it is now (the source may have moved on). */
  drift: string[];
}

export interface VerifyPublishedDeps {
  store: ObjectStore;
  pool: PgPool;
  postgresUrl: string;
  config: Pick<ExportConfig, 'duckdbMemoryMb' | 'verifyThreads' | 'workDir'>;
}

/** Loads the manifest readers currently see for a table. @throws CorrenteError `RUN_NOT_FOUND`. */
export async function currentManifest(store: ObjectStore, bucket: string, table: TableRef, signal?: AbortSignal): Promise<Manifest> {
  const pointer = await readCurrentPointer(store, bucket, table, signal);
  const manifest = pointer ? await readManifest(store, bucket, pointer.manifestKey, signal) : undefined;
  if (!manifest) {
    throw new CorrenteError('RUN_NOT_FOUND', `Nothing published for ${formatTableRef(table)} in bucket ${bucket}`, {
      table: formatTableRef(table),
      hint: `Run: corrente migrate --tables ${formatTableRef(table)} --wait`,
    });
  }
  return manifest;
}

export async function verifyPublished(deps: VerifyPublishedDeps, bucket: string, table: TableRef, signal?: AbortSignal): Promise<PublishedCheck> {
  const pointer = await readCurrentPointer(deps.store, bucket, table, signal);
  const manifest = await currentManifest(deps.store, bucket, table, signal);
  const chained = pointer && pointer.runId === manifest.runId && (pointer.increments?.length ?? 0) > 0;
  const state = chained ? await mergedFingerprints(deps, bucket, manifest, pointer, signal) : undefined;
  const latest = state?.increments.at(-1) ?? manifest;
  const schema = schemaOfManifest(latest);
  const parquet = state ? state.runs[0]! : await fingerprintRunFiles({ store: deps.store, config: deps.config }, manifest, signal);
  const integrity = manifest.sourceFingerprint ? compareFingerprints(schemaOfManifest(manifest), manifest.sourceFingerprint, parquet) : [];
  for (const [i, m] of (state?.increments ?? []).entries()) {
    if (m.sourceFingerprint) integrity.push(...compareFingerprints(schemaOfManifest(m), m.sourceFingerprint, state!.runs[i + 1]!).map((d) => `increment ${m.runId}: ${d}`));
  }
  const seen = state?.merged ?? parquet;
  const session = await openReadSession(deps.pool, { target: deps.postgresUrl });
  try {
    const options = { textChecksum: latest.textChecksum };
    const res = await session.client.query(buildFingerprintSql(schema, undefined, options)).catch((err: unknown) => {
      throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(table) });
    });
    const live = readFingerprintRow(schema, res.rows[0] as Record<string, unknown>, options);
    return { manifest, increments: state?.increments ?? [], rows: Number(seen.rows), integrity, drift: compareFingerprints(schema, live, seen) };
  } finally {
    await session.close();
  }
}

/**
 * Fingerprints of each run of the chain (its own files) and of the merged state, in one
 * DuckDB session; remote files are downloaded once into a temp dir.
 */
async function mergedFingerprints(
  deps: VerifyPublishedDeps,
  bucket: string,
  manifest: Manifest,
  pointer: NonNullable<Awaited<ReturnType<typeof readCurrentPointer>>>,
  signal?: AbortSignal,
): Promise<{ increments: Manifest[]; runs: TableFingerprint[]; merged: TableFingerprint }> {
  const increments = await incrementManifests(deps.store, bucket, pointer, signal);
  const latest = increments.at(-1)!;
  const work = await makeWorkDir(deps.config.workDir, 'verify');
  const duck = await openDuckSession({ memoryMb: readMemoryMb(deps.config.duckdbMemoryMb, [manifest, ...increments]), threads: deps.config.verifyThreads, tempDir: work });
  try {
    const buckets = { bronze: bucket, silver: bucket, gold: bucket };
    const input = await localStateOf({ store: deps.store, buckets, cacheDir: work }, { layer: 'bronze', manifest, pointer }, signal);
    const runs = [await fingerprintParquet(duck, schemaOfManifest(manifest), input.paths, signal, { textChecksum: manifest.textChecksum })];
    for (const [i, m] of increments.entries()) runs.push(await fingerprintParquet(duck, schemaOfManifest(m), input.increments![i]!.paths, signal, { textChecksum: m.textChecksum }));
    const merged = await fingerprintRelation(duck, schemaOfManifest(latest), stateRelationSql(input, latest.columns), signal, { textChecksum: latest.textChecksum });
    return { increments, runs, merged };
  } finally {
    duck.close();
    await rm(work, { recursive: true, force: true });
  }
}
