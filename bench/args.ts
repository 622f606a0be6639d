/**
 * Command-line flags of the benchmark (`npm run bench -- --rows 1000000 --json`).
 */
import { parseArgs } from 'node:util';

export const MEASUREMENTS = [
  'limit',
  'duckdb-ref',
  'naive',
  'corrente-local',
  'corrente-local+verify',
  'end-to-end',
  'corrente-s3',
  'scaling',
  'restore',
  'api',
  'incremental',
] as const;
export type MeasurementName = (typeof MEASUREMENTS)[number];

/** Measurements run only when `--only` names them (they add minutes to the default run). */
const OPT_IN: readonly MeasurementName[] = ['incremental'];

export interface BenchArgs {
  /** Rows in core.fact_demand_daily. */
  rows: number;
  /** Also print the JSON result on stdout, after the table. */
  json: boolean;
  /** Measurements to run, in the fixed order of MEASUREMENTS. */
  only: MeasurementName[];
  database: string;
  /** Worker counts for the scaling run. */
  workers: number[];
  /** Rounds of the end-to-end measurement (medians over them). */
  rounds: number;
  /** Rows of the wide table the end-to-end measurement generates. */
  wideRows: number;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --rows N          rows in core.fact_demand_daily (default 5000000); the sample tables
                    are (re)seeded to exactly N rows when they hold a different count
  --json            also print the JSON result on stdout after the table
  --only a,b        run a subset of: ${MEASUREMENTS.join(', ')}
                    (${OPT_IN.join(', ')}: only when named here)
  --database URL    Postgres URL (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
  --workers 1,2     worker process counts for the scaling run (default 1,2)
  --rounds N        rounds of end-to-end, paths alternating (default 3; medians over them)
  --wide-rows N     rows of the wide table end-to-end generates (default rows / 8)
  -h, --help        show this help
`;

export class ArgsError extends Error {}

function parseCount(flag: string, raw: string, min: number, max: number): number {
  const cleaned = raw.trim().replace(/[_,]/g, '');
  if (!/^\d+$/.test(cleaned)) throw new ArgsError(`${flag} ${JSON.stringify(raw)} is not a whole number`);
  const n = Number(cleaned);
  if (n < min || n > max) throw new ArgsError(`${flag} ${n} is out of range (${min}..${max})`);
  return n;
}

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        rows: { type: 'string' },
        json: { type: 'boolean', default: false },
        only: { type: 'string' },
        database: { type: 'string' },
        workers: { type: 'string' },
        rounds: { type: 'string' },
        'wide-rows': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new ArgsError((err as Error).message);
  }
  const rows = values.rows === undefined ? 5_000_000 : parseCount('--rows', values.rows, 1, 1_000_000_000);

  let only: MeasurementName[] = MEASUREMENTS.filter((m) => !OPT_IN.includes(m));
  if (values.only !== undefined) {
    const wanted = values.only.split(',').map((s) => s.trim()).filter(Boolean);
    if (wanted.length === 0) throw new ArgsError('--only needs at least one measurement name');
    for (const w of wanted) {
      if (!(MEASUREMENTS as readonly string[]).includes(w)) {
        throw new ArgsError(`--only: unknown measurement ${JSON.stringify(w)} (known: ${MEASUREMENTS.join(', ')})`);
      }
    }
    only = MEASUREMENTS.filter((m) => wanted.includes(m));
  }

  const workers = (values.workers ?? '1,2')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parseCount('--workers', s, 1, 16));
  if (workers.length === 0) throw new ArgsError('--workers needs at least one count, e.g. --workers 1,2');

  const rounds = values.rounds === undefined ? 3 : parseCount('--rounds', values.rounds, 1, 20);
  const wideRows = values['wide-rows'] === undefined ? Math.max(1, Math.floor(rows / 8)) : parseCount('--wide-rows', values['wide-rows'], 1, 1_000_000_000);

  const database = values.database ?? (env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test');
  return { rows, json: values.json ?? false, only, database, workers: [...new Set(workers)], rounds, wideRows, help: values.help ?? false };
}
