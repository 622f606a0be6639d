/**
 * Types shared by the export use cases.
 */
import type { ExportConfig, IncrementalConfig } from '../config/index.js';
import type { Manifest } from '../lake/index.js';
import type { ColumnOverrides, PgPool } from '../postgres/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { Logger } from '../shared/logger.js';
import type { TableRef } from '../shared/table-schema.js';

export type Layer = 'bronze' | 'silver' | 'gold';

/** What to export. Holds no secrets: it travels in job payloads. */
export interface ExportRequest {
  runId: string;
  table: TableRef;
  layer: Layer;
  columns?: ColumnOverrides;
  /** Export only the rows changed since the last published run (`tables[].incremental`). */
  incremental?: IncrementalConfig;
  /** With `incremental`: export the whole table this time and restart the chain of increments. */
  fullRefresh?: boolean;
}

/** Long-lived resources the export borrows (and does not close). */
export interface ExportDeps {
  pool: PgPool;
  /** Postgres URL, only to name the source in messages and manifests. */
  postgresUrl: string;
  store: ObjectStore;
  buckets: Readonly<Record<Layer, string>>;
  config: ExportConfig;
  logger?: Logger;
}

/** Progress of a running export, reported at most a few times per second. */
export interface ExportProgress {
  phase: 'starting' | 'exporting' | 'finishing';
  /** Rows streamed so far (exact once the export ends). */
  rows: number;
  /** Planner estimate of the table's rows; -1 when unknown. */
  estimatedRows: number;
  bytesRead: number;
  filesWritten: number;
}

export interface ExportCallOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

/** The staged result: a manifest with `verification.status` pending (or skipped). */
export interface StagedExport {
  manifest: Manifest;
  stagedKey: string;
}
