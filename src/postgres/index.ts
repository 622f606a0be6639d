export { createPgPool, type PgClient, type PgPool } from './pool.js';
export { describeTarget, mapPgError } from './pg-errors.js';
export { openReadSession, type ReadSession, type ReadSessionOptions } from './read-session.js';
export { introspectTable, type ColumnOverrides } from './introspect-table.js';
export { mapPgType, type PgTypeInfo, type TypeDecision } from './type-mapping.js';
export { buildCopySql, type RowFilter } from './copy-sql.js';
export { copyOut } from './copy-out.js';
export { buildFingerprintSql, readFingerprintRow } from './fingerprint-sql.js';
