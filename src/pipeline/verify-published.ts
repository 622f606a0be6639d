/**
 * Re-verifies what readers currently see for a table: the published Parquet files against
 * the fingerprint taken at export time (integrity), and against the live source (drift).
 */
import type { ExportConfig } from '../config/index.js';
import { readCurrentPointer, readManifest, schemaOfManifest, type Manifest } from '../lake/index.js';
import { buildFingerprintSql, describeTarget, mapPgError, openReadSession, readFingerprintRow, type PgPool } from '../postgres/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError } from '../shared/errors.js';
import { formatTableRef, type TableRef } from '../shared/table-schema.js';
import { compareFingerprints } from './compare-fingerprints.js';
import { fingerprintRunFiles } from './verify-run.js';

export interface PublishedCheck {
  manifest: Manifest;
  /** Differences between the files and the export-time source fingerprint (must be empty). */
  integrity: string[];
  /** Differences between the files and the source as it is now (the source may have moved on). */
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
  const manifest = await currentManifest(deps.store, bucket, table, signal);
  const schema = schemaOfManifest(manifest);
  const parquet = await fingerprintRunFiles({ store: deps.store, config: deps.config }, manifest, signal);
  const integrity = manifest.sourceFingerprint ? compareFingerprints(schema, manifest.sourceFingerprint, parquet) : [];
  const session = await openReadSession(deps.pool, { target: deps.postgresUrl });
  try {
    const options = { textChecksum: manifest.textChecksum };
    const res = await session.client.query(buildFingerprintSql(schema, undefined, options)).catch((err: unknown) => {
      throw mapPgError(err, describeTarget(deps.postgresUrl), { table: formatTableRef(table) });
    });
    const live = readFingerprintRow(schema, res.rows[0] as Record<string, unknown>, options);
    return { manifest, integrity, drift: compareFingerprints(schema, live, parquet) };
  } finally {
    await session.close();
  }
}
