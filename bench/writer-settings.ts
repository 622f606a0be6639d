/**
 * corrente's Parquet writer settings, read through its own config loader, and the same
 * settings as DuckDB `COPY ... TO` options, so the references the harness writes itself
 * (duckdb-ref, the manual path) use exactly what an export with that config uses.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type ExportConfig } from '../src/config/index.js';

/** Writes an empty corrente.yaml into `dir` (every setting at its default) and returns its path. */
export function writeDefaultConfig(dir: string): string {
  const path = join(dir, 'corrente.yaml');
  writeFileSync(path, '# corrente benchmark: every setting at its default\n');
  return path;
}

/** The export settings corrente runs with under `configFile` (and no environment overrides). */
export function exportSettings(configFile: string): ExportConfig {
  return loadConfig({ env: {}, file: configFile }).export;
}

/** DuckDB `COPY ... TO` options for these settings: codec, level, Parquet version, row group size. */
export function parquetCopyOptions(s: Pick<ExportConfig, 'compression' | 'compressionLevel' | 'parquetVersion' | 'rowGroupRows'>): string {
  const level = s.compression === 'zstd' ? `, COMPRESSION_LEVEL ${s.compressionLevel}` : '';
  return `FORMAT parquet, COMPRESSION ${s.compression}${level}, ROW_GROUP_SIZE ${s.rowGroupRows}, PARQUET_VERSION ${s.parquetVersion.toUpperCase()}`;
}
