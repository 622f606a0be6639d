/**
 * The manifest: everything needed to read a run, check it, and recreate the source table
 * (column names and Postgres types, nullability, primary key).
 */
import { z } from 'zod';
import { CorrenteError } from '../shared/errors.js';
import { TEXT_CHECKSUMS } from '../shared/fingerprint.js';
import type { StageSeconds } from '../shared/stage-seconds.js';
import type { LogicalType, TableSchema } from '../shared/table-schema.js';

export const MANIFEST_FORMAT = 'corrente.manifest/v1';

const fingerprintSchema = z.object({
  rows: z.string(),
  columns: z.record(z.string(), z.record(z.string(), z.string().nullable())),
});

/** Validates {@link StageSeconds} (documented in src/shared/stage-seconds.ts). */
export const stageSecondsSchema = z.object({
  /** Reading the COPY stream into DuckDB's pipe, waiting on Postgres included. */
  read: z.number(),
  /** Reading held back because DuckDB was behind (its pipe full). */
  readPaused: z.number(),
  /** DuckDB's time not overlapped by reading: finishing after the last row, rows too wide for the pipe. */
  convert: z.number(),
  /** Hashing and uploading Parquet files. */
  upload: z.number(),
  /** Waiting, after the last file, for the source checksums (verification on). */
  checksumWait: z.number(),
}) satisfies z.ZodType<StageSeconds>;
export type { StageSeconds };

/** How to recreate a user-defined column type (see `TypeDefinition`). */
export const typeDefinitionSchema = z.object({
  name: z.string(),
  kind: z.enum(['enum', 'composite', 'domain']),
  sql: z.string(),
});

/** One input of a model run: a table or model, and the run of it that was read. */
/** One column that differs from the previous run (see `diffColumns`). */
export const schemaChangeSchema = z.object({
  column: z.string(),
  change: z.enum(['added', 'removed', 'type']),
  /** Stored type before and after (`parquetType`), when it has one. */
  from: z.string().optional(),
  to: z.string().optional(),
  /** Why the new type was chosen, e.g. an array column kept as text. */
  note: z.string().optional(),
});
export type SchemaChange = z.infer<typeof schemaChangeSchema>;

export const lineageInputSchema = z.object({
  layer: z.enum(['bronze', 'silver', 'gold']),
  table: z.object({ schema: z.string(), name: z.string() }),
  runId: z.string(),
  snapshotTime: z.string(),
  /** Incremental runs read on top of `runId` (oldest first); `snapshotTime` is then the last one's. */
  increments: z.array(z.string()).optional(),
});

/** Where a run of a model (or a published file set) came from. */
export const lineageSchema = z.object({
  kind: z.enum(['model', 'publish']),
  /** The model name (models) or the published table's name. */
  model: z.string(),
  /** The model's SQL file (models) or the files given to `publish`. */
  file: z.string(),
  /** sha256 of the model file and its options. */
  sqlHash: z.string().optional(),
  inputs: z.array(lineageInputSchema),
  /** Data tests run before publishing, with their outcome. */
  tests: z.array(z.object({ name: z.string(), severity: z.enum(['error', 'warn']), failingRows: z.number() })),
});
export type Lineage = z.infer<typeof lineageSchema>;

/** A Parquet file of the run that is not a data file (tombstones of an incremental run). */
const sideFileSchema = z.object({ key: z.string(), uri: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string() });

/**
 * Incremental export facts of a run of a table with `incremental:` configured: the window
 * it covers (an `incremental` run) or the watermark it starts (a `full` run), and how the
 * lake reconciled with the source afterwards. See README, "Incremental export".
 */
export const incrementalInfoSchema = z.object({
  mode: z.enum(['column', 'xmin']),
  /** Watermark column (column mode). */
  column: z.string().optional(),
  /**
   * Lower bound of the window, inclusive, as Postgres text: the previous watermark minus the
   * overlap (column mode), or the previous snapshot's xmin (xmin mode). Absent on full runs.
   */
  from: z.string().optional(),
  /** The previous run's watermark, before the overlap was taken off. */
  previous: z.string().optional(),
  /**
   * The watermark this run establishes, read in the export's own snapshot with the
   * database's clock: `now()` of the snapshot (time columns), `max(column)` (integer
   * columns), or the snapshot itself (`pg_current_snapshot()`, xmin mode).
   */
  to: z.string(),
  /** The overlap applied, as configured (`10m`, or a count for integer columns). */
  overlap: z.string().optional(),
  /** The full run this increment applies on top of. */
  baseRunId: z.string().optional(),
  /** Why a table configured as incremental was exported in full this time. */
  fullReason: z.string().optional(),
  /** `pg_class` oid of the source table: a recreated table forces a full run. */
  tableOid: z.string().optional(),
  /** Rows whose watermark column is NULL (never in an increment; full runs include them). */
  nullRows: z.number().optional(),
  /** `deletes: keydiff`: primary keys in the lake but no longer in the source. */
  tombstones: sideFileSchema.optional(),
  /** Seconds spent finding deletes (source keys read, compared with the lake's). */
  keydiffSeconds: z.number().optional(),
  /**
   * Counts checked after the run: rows in the window (Postgres vs written), and rows of the
   * whole table (Postgres vs the lake's base + increments, latest per key, minus tombstones).
   */
  reconciliation: z
    .object({
      windowSourceRows: z.number(),
      windowWrittenRows: z.number(),
      sourceRows: z.number(),
      lakeRows: z.number(),
      status: z.enum(['matched', 'mismatched']),
    })
    .optional(),
});
export type IncrementalInfo = z.infer<typeof incrementalInfoSchema>;

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  runId: z.string(),
  table: z.object({ schema: z.string(), name: z.string() }),
  layer: z.enum(['bronze', 'silver', 'gold']),
  bucket: z.string(),
  source: z.object({
    /** host:port/database, never credentials. */
    database: z.string(),
    snapshotTime: z.string(),
    estimatedRows: z.number(),
  }),
  columns: z.array(
    z.object({
      name: z.string(),
      pgType: z.string(),
      nullable: z.boolean(),
      parquetType: z.string(),
      /** The logical type as stored (see `LogicalType`). */
      type: z.custom<LogicalType>((v) => typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string'),
      note: z.string().optional(),
    }),
  ),
  primaryKey: z.array(z.string()),
  /**
   * `CREATE TYPE` / `CREATE DOMAIN` statements of the user-defined types the columns use,
   * dependencies first; absent in manifests written before restore existed.
   */
  types: z.array(typeDefinitionSchema).optional(),
  files: z.array(
    z.object({
      key: z.string(),
      uri: z.string(),
      rows: z.number(),
      bytes: z.number(),
      sha256: z.string(),
      /** Widest source row (CSV bytes) in the file: sizes DuckDB's memory when reading it back. */
      maxRowBytes: z.number().optional(),
    }),
  ),
  totals: z.object({ rows: z.number(), bytes: z.number(), files: z.number() }),
  sourceFingerprint: fingerprintSchema.optional(),
  /** How the fingerprints treat text-like values (`export.textChecksum` at export time). */
  textChecksum: z.enum(TEXT_CHECKSUMS).default('md5'),
  verification: z.object({
    status: z.enum(['pending', 'passed', 'failed', 'skipped']),
    checkedAt: z.string().optional(),
    seconds: z.number().optional(),
    mismatches: z.array(z.string()).default([]),
  }),
  /**
   * For runs of SQL models (`transform`) and files published by `corrente publish`: what
   * the run was computed from, and the data tests it passed (or warned on).
   */
  lineage: lineageSchema.optional(),
  /**
   * `incremental`: the files hold only the rows changed in a window, to be applied on top of
   * a full run (see `CurrentPointer.increments`). Absent or `full`: the whole table.
   */
  kind: z.enum(['full', 'incremental']).optional(),
  /** Set for tables exported with `incremental:` (both kinds of run). */
  incremental: incrementalInfoSchema.optional(),
  /** How the columns differ from the run that was current when this one was exported. */
  schemaChanges: z.array(schemaChangeSchema).optional(),
  timings: z.object({
    startedAt: z.string(),
    exportedAt: z.string(),
    exportSeconds: z.number(),
    /** Where the export's time went (summed over files and ranges); absent in older manifests. */
    stages: stageSecondsSchema.optional(),
    /** Most bytes one export job held in its work directory at once; absent in older manifests. */
    workDiskPeakBytes: z.number().optional(),
    publishedAt: z.string().optional(),
  }),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Manifest['files'][number];

/** Parses and validates a manifest read from storage. */
export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CorrenteError('STORAGE_IO', `Manifest ${where} is not valid JSON`, { hint: 'The run is damaged: re-run the migration for this table' });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CorrenteError('STORAGE_IO', `Manifest ${where} is invalid at ${issue.path.join('.')}: ${issue.message}`, {
      hint: 'The run is damaged or written by an incompatible version: re-run the migration for this table',
    });
  }
  return parsed.data;
}

/** One published incremental run applied on top of the pointer's full run. */
export const pointerIncrementSchema = z.object({
  runId: z.string(),
  manifestKey: z.string(),
  snapshotTime: z.string(),
  publishedAt: z.string(),
  files: z.array(z.string()),
  /** Parquet files of primary keys deleted as of this increment (`deletes: keydiff`). */
  tombstones: z.array(z.string()).optional(),
});
export type PointerIncrement = z.infer<typeof pointerIncrementSchema>;

/**
 * Pointer to the run readers should use: always a complete full run (`runId`, `files`).
 * `increments`, oldest first, are the incremental runs published on top of it; a reader
 * wanting the latest state takes, per primary key, the row of the latest increment holding
 * it (else the full run's), minus keys whose latest event is a tombstone.
 */
export const currentPointerSchema = z.object({
  runId: z.string(),
  manifestKey: z.string(),
  snapshotTime: z.string(),
  publishedAt: z.string(),
  files: z.array(z.string()),
  increments: z.array(pointerIncrementSchema).optional(),
});
export type CurrentPointer = z.infer<typeof currentPointerSchema>;

/** The table schema a manifest describes (for re-verification and restore). */
export function schemaOfManifest(m: Manifest): TableSchema {
  return {
    table: m.table,
    columns: m.columns.map((c) => ({ name: c.name, pgType: c.pgType, nullable: c.nullable, type: c.type, ...(c.note ? { note: c.note } : {}) })),
    primaryKey: m.primaryKey,
    estimatedRows: m.source.estimatedRows,
    ...(m.types ? { types: m.types } : {}),
  };
}
