import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckSession, openLakeSession, type DuckSession } from '../../src/duckdb/index.js';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corrente-file-cache-'));
  file = join(dir, 'rows.parquet');
  const duck = await openDuckSession();
  try {
    await duck.run(`COPY (SELECT range AS id, range % 97 AS k FROM range(200000)) TO '${file}' (FORMAT parquet)`);
  } finally {
    duck.close();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Scans the test file once and returns what DuckDB's external file cache then holds. */
async function cachedBytesAfterScan(duck: DuckSession): Promise<number> {
  try {
    const [sum] = await duck.rows(`SELECT sum(k)::VARCHAR AS s FROM read_parquet('${file}')`);
    expect(sum?.s).toBe('9599419');
    const [row] = await duck.rows(`SELECT memory_usage_bytes::VARCHAR AS b FROM duckdb_memory() WHERE tag = 'EXTERNAL_FILE_CACHE'`);
    return Number(row?.b);
  } finally {
    duck.close();
  }
}

describe("DuckDB's external file cache", () => {
  it('holds nothing after a one-pass read (verification, exports, restores)', async () => {
    expect(await cachedBytesAfterScan(await openDuckSession())).toBe(0);
  });

  it('keeps what a lake session read, for the queries that read it again', async () => {
    expect(await cachedBytesAfterScan(await openLakeSession([]))).toBeGreaterThan(0);
  });
});
