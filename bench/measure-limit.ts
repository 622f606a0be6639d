/**
 * `limit`: the practical ceiling for reading the table, `COPY ... TO STDOUT` through
 * psql into /dev/null. One untimed warm-up run first (so it reads from the same warm
 * cache the later measurements do), then the timed run.
 */
import { closeSync, openSync } from 'node:fs';
import { runChild, type ChildExit, type ChildHandle } from './proc.js';
import { FACT_TABLE } from './paths.js';
import { kbToMb } from './rss.js';
import { log, type Measurement } from './types.js';

/** One `psql -c "COPY <table> TO STDOUT" > /dev/null`, timed from spawn to exit. */
export async function timeCopy(databaseUrl: string, table: string, name = 'psql COPY'): Promise<{ handle: ChildHandle; exit: ChildExit }> {
  const devNull = openSync('/dev/null', 'w');
  try {
    return await runChild(name, 'psql', [databaseUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `COPY ${table} TO STDOUT`], { stdout: devNull });
  } finally {
    closeSync(devNull);
  }
}

export async function measureLimit(databaseUrl: string, rows: number): Promise<Measurement> {
  log('limit: warm-up COPY');
  const warm = await timeCopy(databaseUrl, FACT_TABLE, 'psql COPY (warm-up)');
  log(`limit: timed COPY (warm-up took ${warm.exit.seconds.toFixed(2)} s)`);
  const { handle, exit } = await timeCopy(databaseUrl, FACT_TABLE);
  const seconds = exit.seconds;
  return {
    key: 'limit',
    label: 'limit',
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMb: kbToMb(handle.rss.peakKb),
    peakRssSource: `psql (${handle.rss.source}); the work is in the Postgres backend`,
    outputBytes: null,
    factTableOnly: true,
    notes: [`psql COPY text -> /dev/null, after a warm-up run (${warm.exit.seconds.toFixed(2)} s)`],
    details: { warmupSeconds: warm.exit.seconds, command: handle.repro },
  };
}
