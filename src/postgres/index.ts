export { createPgPool, type PgClient, type PgPool } from './pool.js';
export { describeTarget, mapPgError } from './pg-errors.js';
export { openReadSession, type ReadSession, type ReadSessionOptions } from './read-session.js';
export { introspectTable, type ColumnOverrides } from './introspect-table.js';
export { listReadableTables } from './list-readable-tables.js';
export { applyArrayLayouts, arrayColumns, buildArrayLayoutSql, readArrayLayouts } from './array-layout.js';
export { mapPgType, type PgTypeInfo, type TypeDecision } from './type-mapping.js';
export { buildCopySql, type RowFilter } from './copy-sql.js';
export { copyOut, type CopyBatch } from './copy-out.js';
export { buildFingerprintSql, readFingerprintRow } from './fingerprint-sql.js';
export { planChunks, rangeFilter } from './chunk-plan.js';
export type { ChunkRange } from '../shared/chunk-range.js';
export { copyIn } from './copy-in.js';
export { readTypeDefinitions } from './type-definitions.js';
export { addPrimaryKeySql, copyInSql, createSchemaSql, createTableSql, qualifiedRef, swapTablesSql } from './restore-sql.js';
export { EXPORT_SESSION_SETTINGS } from './copy-sql.js';
export {
  buildKeyCopySql,
  columnWindowFilter,
  parseXidSnapshot,
  readColumnMax,
  readSnapshotNow,
  readTableOid,
  readWindowCounts,
  readXidSnapshot,
  subtractInterval,
  watermarkKind,
  xminWindowFilter,
  type WatermarkKind,
  type XidSnapshot,
} from './incremental-sql.js';
