/**
 * The API's DuckDB pool: statements are prepared once per connection and SQL text, so the
 * same SQL with other values must answer for those values, and a statement whose file
 * disappeared must fail, then work again once the file is back (it is not kept broken).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openQueryPool, type QueryPool } from '../../src/duckdb/index.js';

let dir: string;
let pool: QueryPool;
let file: string;

const write = (): Promise<void> => pool.run(`COPY (SELECT i AS id, i % 7 AS k FROM range(1000) t(i)) TO '${file}' (FORMAT parquet)`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'corrente-pool-'));
  file = join(dir, 't.parquet');
  pool = await openQueryPool({ connections: 2, threads: 1 });
  await write();
});

afterAll(async () => {
  await pool?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('query pool', () => {
  const sql = (): string => `SELECT count(*)::INTEGER AS n, min(id)::INTEGER AS lo FROM read_parquet('${file}') WHERE k = CAST($1 AS INTEGER) AND id >= CAST($2 AS INTEGER)`;

  it('answers the same SQL for each set of bound values, concurrently', async () => {
    const cases = Array.from({ length: 40 }, (_, i) => [String(i % 7), String(i * 10)] as const);
    const results = await Promise.all(cases.map(([k, from]) => pool.query(sql(), [k, from])));
    results.forEach((r, i) => {
      const [k, from] = cases[i]!.map(Number) as [number, number];
      const ids = Array.from({ length: 1000 }, (_, id) => id).filter((id) => id % 7 === k && id >= from);
      expect(r.rows).toEqual([[ids.length, ids[0] ?? null]]);
    });
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([[1]]);
  });

  it('a statement whose file is gone fails, and works again when the file is back', async () => {
    expect((await pool.query(sql(), ['3', '0'])).rows).toEqual([[143, 3]]);
    await rm(file);
    await expect(pool.query(sql(), ['3', '0'])).rejects.toThrow(/t\.parquet/);
    await write();
    expect((await pool.query(sql(), ['3', '0'])).rows).toEqual([[143, 3]]);
  });
});
