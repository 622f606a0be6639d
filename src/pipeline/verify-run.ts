/**
 * Verifies a staged run against the source fingerprint taken under the export snapshot,
 * reading the Parquet files back from storage with DuckDB, then publishes it. A run that
 * fails verification is never published.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportConfig } from '../config/index.js';
import { applyScanBudget, fingerprintParquet, isOutOfMemory, openDuckSession, outOfMemoryError, setScanBudget } from '../duckdb/index.js';
import { advanceWatermark, publishManifest, readManifest, schemaOfManifest, stagedKey, type Manifest, type PublishResult } from '../lake/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import type { TableFingerprint } from '../shared/fingerprint.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';
import { compareFingerprints } from './compare-fingerprints.js';
import { refreshLocalCatalogQuietly, type LayerBuckets } from './lake-catalog.js';
import { readMemoryMb } from './read-memory.js';
import { makeWorkDir } from './work-dir.js';

export interface VerifyDeps {
  store: ObjectStore;
  config: Pick<ExportConfig, 'duckdbMemoryMb' | 'verifyThreads' | 'workDir'>;
  logger?: Logger;
  /** The lake's buckets: given, a local lake's `catalog.duckdb` is rebuilt after each publish. */
  buckets?: LayerBuckets;
}

export interface VerifyRequest {
  bucket: string;
  table: TableRef;
  runId: string;
}

export interface VerifiedRun {
  manifest: Manifest;
  publish: PublishResult;
}

/**
 * Reads the manifest's files with DuckDB and computes their fingerprint. Local files are
 * read in place; remote ones are streamed to a temp dir first (DuckDB's httpfs may be
 * unavailable).
 */
export async function fingerprintRunFiles(deps: VerifyDeps, manifest: Manifest, signal?: AbortSignal): Promise<TableFingerprint> {
  const local = manifest.files.map((f) => deps.store.localPath(manifest.bucket, f.key));
  const needsDownload = local.some((p) => p === undefined);
  const dir = needsDownload ? await makeWorkDir(deps.config.workDir, 'verify') : undefined;
  const budget = { memoryMb: readMemoryMb(deps.config.duckdbMemoryMb, [manifest]), threads: deps.config.verifyThreads };
  const duck = await openDuckSession(budget);
  try {
    const paths: string[] = [];
    for (const [i, f] of manifest.files.entries()) {
      const p = local[i];
      if (p !== undefined) {
        paths.push(p);
        continue;
      }
      const dest = join(dir!, `part-${i}.parquet`);
      await deps.store.getFile(manifest.bucket, f.key, dest, { signal });
      paths.push(dest);
    }
    const fitted = await applyScanBudget(duck, paths, budget, signal);
    const fingerprint = (): Promise<TableFingerprint> => fingerprintParquet(duck, schemaOfManifest(manifest), paths, signal, { textChecksum: manifest.textChecksum });
    return await fingerprint().catch(async (err: unknown) => {
      if (!isOutOfMemory(err)) throw err;
      // The row-group estimate is a heuristic: once more on one thread with twice the memory.
      const retry = { threads: 1, memoryMb: 2 * fitted.memoryMb };
      await setScanBudget(duck, retry, signal);
      return await fingerprint().catch((again: unknown) => {
        throw isOutOfMemory(again) ? outOfMemoryError(again, formatTableRef(manifest.table), 'verification read-back', retry.memoryMb) : again;
      });
    });
  } finally {
    duck.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Verifies the staged run and publishes it.
 * @throws CorrenteError `VERIFY_MISMATCH` (not retryable) listing what differs;
 *   `RUN_NOT_FOUND` when nothing was staged for the run.
 */
export async function verifyAndPublish(deps: VerifyDeps, req: VerifyRequest, signal?: AbortSignal): Promise<VerifiedRun> {
  const logger = deps.logger ?? noopLogger;
  const shown = formatTableRef(req.table);
  const manifest = await readManifest(deps.store, req.bucket, stagedKey(req.table, req.runId), signal);
  if (!manifest) {
    throw new CorrenteError('RUN_NOT_FOUND', `No staged export of ${shown} for run ${req.runId}`, {
      table: shown,
      runId: req.runId,
      hint: 'The export did not finish, or the run was already published or collected; re-run the migration',
    });
  }
  if (manifest.sourceFingerprint) {
    const started = Date.now();
    const parquet = await fingerprintRunFiles(deps, manifest, signal);
    const mismatches = compareFingerprints(schemaOfManifest(manifest), manifest.sourceFingerprint, parquet);
    manifest.verification = {
      status: mismatches.length === 0 ? 'passed' : 'failed',
      checkedAt: new Date().toISOString(),
      seconds: (Date.now() - started) / 1000,
      mismatches,
    };
    logger.info({ table: shown, status: manifest.verification.status, seconds: manifest.verification.seconds }, 'verification done');
    if (mismatches.length > 0) {
      throw new CorrenteError('VERIFY_MISMATCH', `Verification of ${shown} failed: ${mismatches.slice(0, 3).join('; ')}${mismatches.length > 3 ? ` (+${mismatches.length - 3} more)` : ''}`, {
        table: shown,
        runId: req.runId,
        hint: 'Nothing was published. Re-run the migration; if it fails again, report it with the staged manifest',
      });
    }
  }
  manifest.timings.publishedAt = new Date().toISOString();
  const publish = await publishManifest(deps.store, manifest, signal);
  // Only now, with the run readable, may the next window start after it.
  if (publish.pointerMoved) await advanceWatermark(deps.store, manifest, publish.pointer.snapshotTime, signal);
  if (publish.pointerMoved && deps.buckets) await refreshLocalCatalogQuietly(deps.store, deps.buckets, logger);
  await deps.store.deleteMany(req.bucket, [stagedKey(req.table, req.runId)], { signal });
  logger.info({ table: shown, runId: req.runId, pointerMoved: publish.pointerMoved }, 'run published');
  return { manifest, publish };
}
