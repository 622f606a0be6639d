/**
 * Runs the manual path (bench/manual-path-child.ts) once: COPY to a CSV file, then DuckDB
 * to Parquet with the given writer options; the temp files are removed afterwards.
 */
import { runChild } from './proc.js';
import { benchScript } from './paths.js';
import { makeTempDir, removeTempDir } from './temp.js';

export interface ManualPathResult {
  rows: number;
  copySeconds: number;
  duckdbSeconds: number;
  /** copySeconds + duckdbSeconds: the two commands, without process start-up. */
  seconds: number;
  /** The Parquet file's size. */
  bytes: number;
  csvBytes: number;
  /** Peak RSS of the child (DuckDB runs in it), kB. */
  peakKb: number | undefined;
}

/**
 * @param columns column name -> DuckDB type (see csv-column-types.ts)
 * @param parquetOptions DuckDB `COPY ... TO` options (see writer-settings.ts)
 */
export async function runManualPath(databaseUrl: string, table: string, columns: Record<string, string>, parquetOptions: string): Promise<ManualPathResult> {
  const dir = makeTempDir('corrente-bench-manual-');
  try {
    const { handle } = await runChild(`manual path (${table})`, process.execPath, [
      benchScript('manual-path-child.js'),
      '--database',
      databaseUrl,
      '--table',
      table,
      '--dir',
      dir,
      '--columns',
      JSON.stringify(columns),
      '--parquet-options',
      parquetOptions,
    ]);
    const r = JSON.parse(handle.stdout.trim().split('\n').at(-1) ?? '') as Omit<ManualPathResult, 'seconds' | 'peakKb'> & { vmHwmKb: number | null };
    return { ...r, seconds: r.copySeconds + r.duckdbSeconds, peakKb: r.vmHwmKb ?? handle.rss.peakKb };
  } finally {
    await removeTempDir(dir);
  }
}
