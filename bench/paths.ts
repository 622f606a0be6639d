/**
 * Where things are, relative to the compiled harness (`dist/bench/*.js`).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (`dist/bench/..` / `..`). */
export const REPO_ROOT = resolve(here, '..', '..');
/** A compiled sibling of this file, e.g. `naive-child.js`. */
export function benchScript(name: string): string {
  return join(here, name);
}
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

/** The fact table every single-table measurement reads. */
export const FACT_TABLE = 'core.fact_demand_daily';
/** The wide, text-heavy table the end-to-end measurement generates (bench/wide-table.ts). */
export const WIDE_TABLE = 'bench.wide_events';
/** The three sample tables (the scaling run exports all of them in one run). */
export const SAMPLE_TABLE_NAMES = ['core.dim_item', 'core.fact_demand_daily', 'analytics.fact_forecasts'] as const;
