/**
 * `duckdb-ref`: the reference size (and, for information, speed) of DuckDB's own Parquet of
 * the whole fact table, written with corrente's writer settings (codec, level, Parquet
 * version, row group size), so the size ratio compares encoders and file layout, not
 * settings. One run of the manual path (bench/manual-path.ts).
 */
import type { ExportConfig } from '../src/config/index.js';
import { duckdbColumnTypes } from './csv-column-types.js';
import { runManualPath } from './manual-path.js';
import { FACT_TABLE } from './paths.js';
import { kbToMb } from './rss.js';
import { log, type Measurement } from './types.js';
import { parquetCopyOptions } from './writer-settings.js';

export async function measureDuckdbRef(databaseUrl: string, factRows: number, settings: ExportConfig): Promise<Measurement> {
  const options = parquetCopyOptions(settings);
  log(`duckdb-ref: psql COPY csv -> file -> DuckDB read_csv -> Parquet (${options})`);
  const r = await runManualPath(databaseUrl, FACT_TABLE, await duckdbColumnTypes(databaseUrl, FACT_TABLE), options);
  if (r.rows !== factRows) throw new Error(`duckdb-ref wrote ${r.rows} rows, expected ${factRows}`);
  return {
    key: 'duckdb-ref',
    label: 'duckdb-ref',
    rows: r.rows,
    seconds: r.seconds,
    rowsPerSecond: r.rows / r.seconds,
    peakRssMb: kbToMb(r.peakKb),
    peakRssSource: 'VmHWM of the duckdb-ref child (DuckDB default memory limit and threads)',
    outputBytes: r.bytes,
    factTableOnly: true,
    notes: [
      `COPY csv ${r.copySeconds.toFixed(2)} s (${(r.csvBytes / 1e6).toFixed(0)} MB) + DuckDB ${r.duckdbSeconds.toFixed(2)} s; exact types; ${settings.compression} ${settings.compression === 'zstd' ? `level ${settings.compressionLevel}, ` : ''}${settings.parquetVersion}, ${settings.rowGroupRows.toLocaleString('en-US')}-row groups (corrente's settings); rows/s for information`,
    ],
    details: { copySeconds: r.copySeconds, duckdbSeconds: r.duckdbSeconds, csvBytes: r.csvBytes, parquetOptions: options },
  };
}
