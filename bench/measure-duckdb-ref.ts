/**
 * `duckdb-ref`: the reference size (and, for information, speed) of DuckDB's own zstd
 * Parquet of the whole fact table, in a child process (bench/duckdb-ref-child.ts).
 */
import { runChild } from './proc.js';
import { benchScript } from './paths.js';
import { kbToMb } from './rss.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

interface RefResult {
  rows: number;
  copySeconds: number;
  duckdbSeconds: number;
  bytes: number;
  csvBytes: number;
  vmHwmKb: number | null;
}

export async function measureDuckdbRef(databaseUrl: string, factRows: number): Promise<Measurement> {
  const dir = makeTempDir('corrente-bench-duckdb-');
  try {
    log('duckdb-ref: psql COPY csv -> file -> DuckDB read_csv -> zstd Parquet');
    const { handle } = await runChild('duckdb-ref child', process.execPath, [
      benchScript('duckdb-ref-child.js'),
      '--database',
      databaseUrl,
      '--dir',
      dir,
    ]);
    const r = JSON.parse(handle.stdout.trim().split('\n').at(-1) ?? '') as RefResult;
    if (r.rows !== factRows) throw new Error(`duckdb-ref wrote ${r.rows} rows, expected ${factRows}`);
    const seconds = r.copySeconds + r.duckdbSeconds;
    return {
      key: 'duckdb-ref',
      label: 'duckdb-ref',
      rows: r.rows,
      seconds,
      rowsPerSecond: r.rows / seconds,
      peakRssMb: kbToMb(r.vmHwmKb ?? handle.rss.peakKb),
      peakRssSource: 'VmHWM of the duckdb-ref child (DuckDB default memory limit and threads)',
      outputBytes: r.bytes,
      factTableOnly: true,
      notes: [
        `COPY csv ${r.copySeconds.toFixed(2)} s (${(r.csvBytes / 1e6).toFixed(0)} MB) + DuckDB ${r.duckdbSeconds.toFixed(2)} s; exact types, zstd; rows/s for information`,
      ],
      details: { copySeconds: r.copySeconds, duckdbSeconds: r.duckdbSeconds, csvBytes: r.csvBytes },
    };
  } finally {
    await removeTempDir(dir);
  }
}
