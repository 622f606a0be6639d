/**
 * `naive`: pg-query-stream -> parquetjs-lite on a fixed sample of min(N, 1M) rows, in a
 * child process (bench/naive-child.ts) so its peak RSS is its own.
 */
import { join } from 'node:path';
import { runChild } from './proc.js';
import { benchScript } from './paths.js';
import { kbToMb } from './rss.js';
import { makeTempDir, removeTempDir } from './temp.js';
import { log, type Measurement } from './types.js';

export const NAIVE_SAMPLE_ROWS = 1_000_000;

interface NaiveResult {
  rows: number;
  seconds: number;
  bytes: number;
  vmHwmKb: number | null;
}

export async function measureNaive(databaseUrl: string, factRows: number): Promise<Measurement> {
  const limit = Math.min(factRows, NAIVE_SAMPLE_ROWS);
  const dir = makeTempDir('corrente-bench-naive-');
  try {
    log(`naive: pg-query-stream -> parquetjs-lite, ${limit.toLocaleString('en-US')} rows (slow by design, ~30-60 s per 1M rows)`);
    const { handle, exit } = await runChild('naive child', process.execPath, [
      benchScript('naive-child.js'),
      '--database',
      databaseUrl,
      '--limit',
      String(limit),
      '--out',
      join(dir, 'naive.parquet'),
    ]);
    const r = JSON.parse(handle.stdout.trim().split('\n').at(-1) ?? '') as NaiveResult;
    handle.rss.captureHighWaterMark();
    const peakKb = Math.max(r.vmHwmKb ?? 0, handle.rss.peakKb ?? 0);
    return {
      key: 'naive',
      label: 'naive',
      rows: r.rows,
      seconds: r.seconds,
      rowsPerSecond: r.rows / r.seconds,
      peakRssMb: kbToMb(peakKb || undefined),
      peakRssSource: r.vmHwmKb ? 'VmHWM of the naive child' : `naive child (${handle.rss.source})`,
      outputBytes: r.bytes,
      factTableOnly: true,
      notes: [`first ${r.rows.toLocaleString('en-US')} rows by id; NUMERIC as DOUBLE (lossy); parquetjs-lite defaults (no compression)`],
      details: { processWallSeconds: exit.seconds, sampleRows: limit },
    };
  } finally {
    await removeTempDir(dir);
  }
}
