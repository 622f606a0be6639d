/**
 * The COPY reader against a real server: rows and bytes as Postgres sends them, errors
 * before and during the stream surface as the server's error, and the connection is
 * handed back to pg in a usable state either way.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOut, type CopyBatch } from '../../src/postgres/index.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';

let pool: pg.Pool;
let client: pg.PoolClient;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  client = await pool.connect();
});

afterAll(async () => {
  client?.release();
  await pool?.end();
});

async function drain(sql: string): Promise<{ batches: CopyBatch[]; error?: { code?: string; message: string } }> {
  const batches: CopyBatch[] = [];
  try {
    for await (const b of copyOut(client, sql)) batches.push(b);
    return { batches };
  } catch (err) {
    return { batches, error: { code: (err as { code?: string }).code, message: (err as Error).message } };
  }
}

describe('copyOut', () => {
  it('returns every row, byte for byte, in 1 MB batches', async () => {
    const { batches, error } = await drain(`COPY (SELECT g, 'row "' || g || E'"\\n!' FROM generate_series(1, 200000) g) TO STDOUT (FORMAT csv)`);
    expect(error).toBeUndefined();
    const text = Buffer.concat(batches.map((b) => b.data)).toString();
    const expected = Array.from({ length: 200000 }, (_, i) => `${i + 1},"row ""${i + 1}""\n!"\n`).join('');
    expect(text).toBe(expected);
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(200000);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.every((b) => b.data.length <= 1 << 20)).toBe(true);
  });

  it('surfaces an error raised before the first row, and pg can use the connection afterwards', async () => {
    const { batches, error } = await drain(`COPY (SELECT 1 / 0) TO STDOUT (FORMAT csv)`);
    expect(batches).toEqual([]);
    expect(error).toMatchObject({ code: '22012', message: 'division by zero' });
    expect((await client.query('SELECT 42 AS x')).rows[0].x).toBe(42);
  });

  it('surfaces an error raised mid-stream, and pg can use the connection afterwards', async () => {
    const { error } = await drain(`COPY (SELECT g, CASE WHEN g = 150000 THEN 1 / 0 ELSE 1 END FROM generate_series(1, 300000) g) TO STDOUT (FORMAT csv)`);
    expect(error).toMatchObject({ code: '22012' });
    expect((await client.query('SELECT 43 AS x')).rows[0].x).toBe(43);
  });

  it('surfaces a refused COPY (unknown table)', async () => {
    const { error } = await drain(`COPY no_such_table_for_copy_out TO STDOUT`);
    expect(error).toMatchObject({ code: '42P01' });
    expect((await client.query('SELECT 44 AS x')).rows[0].x).toBe(44);
  });

  it('an empty result ends the stream with no batch', async () => {
    const { batches, error } = await drain(`COPY (SELECT 1 WHERE false) TO STDOUT (FORMAT csv)`);
    expect(error).toBeUndefined();
    expect(batches).toEqual([]);
  });
});
