/**
 * Makes sure the sample tables exist with exactly N fact rows (seeding them through the
 * project's own `seedSample`, which skips tables already seeded with that count).
 */
import pg from 'pg';
import { seedSample } from '../src/demo/index.js';
import { SAMPLE_TABLE_NAMES } from './paths.js';

export interface DatasetTable {
  table: string;
  rows: number;
  /** pg_total_relation_size: heap + indexes + toast. */
  totalBytes: number;
  /** pg_relation_size of the heap alone. */
  heapBytes: number;
}

export interface Dataset {
  factRows: number;
  tables: DatasetTable[];
  /** True when this run (re)created at least one table. */
  seeded: boolean;
  seedSeconds: number;
  postgresVersion: string;
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export async function ensureDataset(databaseUrl: string, factRows: number): Promise<Dataset> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'corrente-bench' });
  try {
    const t0 = performance.now();
    let lastShown = 0;
    const result = await seedSample(pool, {
      factRows,
      onProgress: (table, rows, total) => {
        const now = performance.now();
        if (rows === total || now - lastShown > 2_000) {
          lastShown = now;
          log(`seeding ${table}: ${rows.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows`);
        }
      },
    });
    const seedSeconds = (performance.now() - t0) / 1000;
    const seeded = result.some((r) => r.created);
    log(
      seeded
        ? `seeded the sample tables in ${seedSeconds.toFixed(1)} s`
        : `sample tables already seeded with ${factRows.toLocaleString('en-US')} fact rows`,
    );
    const tables: DatasetTable[] = [];
    for (const name of SAMPLE_TABLE_NAMES) {
      const { rows } = await pool.query<{ n: string; total: string; heap: string }>(
        `SELECT (SELECT count(*) FROM ${name})::text AS n,
                pg_total_relation_size($1::regclass)::text AS total,
                pg_relation_size($1::regclass)::text AS heap`,
        [name],
      );
      const r = rows[0]!;
      tables.push({ table: name, rows: Number(r.n), totalBytes: Number(r.total), heapBytes: Number(r.heap) });
    }
    const fact = tables.find((t) => t.table === 'core.fact_demand_daily')!;
    if (fact.rows !== factRows) {
      throw new Error(
        `core.fact_demand_daily holds ${fact.rows} rows, expected ${factRows} (its seed comment is stale?); ` +
          `reseed with: node dist/cli/main.js seed --rows ${factRows} --reseed`,
      );
    }
    const { rows: v } = await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return { factRows, tables, seeded, seedSeconds, postgresVersion: v[0]?.v ?? 'unknown' };
  } finally {
    await pool.end();
  }
}
