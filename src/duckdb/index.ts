export { openDuckSession, type DuckSession, type DuckSessionOptions } from './duckdb-session.js';
export { buildCsvToParquetSql, duckType, memoryNeededMb, writeParquetFilesFromCsv, writeParquetFromCsv, type ParquetWriteOptions, type WrittenParquet } from './csv-to-parquet.js';
export { buildParquetFingerprintSql, fingerprintParquet, fingerprintRelation } from './parquet-fingerprint.js';
export { buildParquetToPgCsvSql, pgTextExpr, writePgCsvFromParquet, writePgCsvFromRelation } from './parquet-to-pg-csv.js';
export { logicalTypeOfDuck, pgTypeOfLogical, storedDuckType } from './duck-types.js';
export { countParquet, describeQuery, parquetRelation, writeQueryToParquet, type QueryParquetOptions, type WrittenFile } from './query-to-parquet.js';
export { lakeViewStatements, openLakeSession, viewNames, writeCatalogFile, type LakeView } from './lake-views.js';
export { openQueryPool, type QueryPool, type QueryPoolOptions, type QueryResult } from './query-pool.js';
export { latestRowsSql, liveKeysSql, type StateLayer } from './lake-state-sql.js';
