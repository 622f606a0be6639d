/**
 * `corrente transform` as users run it: --list, --graph, an inline run of the shipped
 * models with --json, a selector, a failing data test (exit 1, one line on stderr), and
 * the same models queued on the `transform` queue for a worker (--wait, --json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { createCliSandbox, runCli, type CliSandbox } from '../helpers/cli.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';
import { startTransformWorker } from '../helpers/transform-worker.js';

let s: CliSandbox;
let t: TransformLake;

beforeAll(async () => {
  const url = await sampleDatabase('corrente_transform_test', 3000);
  t = await createTransformLake(url);
  s = await createCliSandbox({ DATABASE_URL: url, LAKE_DIR: t.lake.dir });
  writeFileSync(join(s.cwd, 'corrente.yaml'), `transform:\n  dir: ${shippedTransformsDir()}\n  memoryMb: 128\n`);
});

afterAll(async () => {
  await s?.cleanup();
  await t?.close();
});

describe('corrente transform', () => {
  it('--list prints the DAG in order with inputs; --graph prints Mermaid; a bad selector is one line', async () => {
    const list = await runCli(['transform', '--list'], s.env, { cwd: s.cwd });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^silver\s+demand_daily\s+<- source:core\.fact_demand_daily/);
    expect(list.stdout).toMatch(/gold\s+demand_vs_forecast\s+<- fact_forecasts, fact_demand_daily/);
    const graph = await runCli(['transform', '--graph', '+dim_item'], s.env, { cwd: s.cwd });
    expect(graph.stdout).toMatch(/^flowchart LR\n/);
    expect(graph.stdout).toContain('silver_items --> gold_dim_item');
    const bad = await runCli(['transform', 'dim_itme'], s.env, { cwd: s.cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('corrente: Selector dim_itme: no model named dim_itme. Did you mean dim_item? (corrente transform --list shows every model)\n');
  });

  it('runs the selected models inline with --json', async () => {
    const r = await runCli(['transform', '+dim_item', '--inline', '--json', '--run-id', 'cli-run-1'], s.env, { cwd: s.cwd });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; runId: string; models: { model: string; status: string; rows: number }[] };
    expect(json).toMatchObject({ ok: true, runId: 'cli-run-1' });
    expect(json.models.map((m) => [m.model, m.status, m.rows])).toEqual([
      ['items', 'published', 5000],
      ['dim_item', 'published', 5000],
    ]);
  });

  it('a failing error test: exit 1, one line naming the model, test and count; the report shows rows', async () => {
    const dir = join(s.cwd, 'bad-transforms');
    mkdirSync(join(dir, 'gold'), { recursive: true });
    writeFileSync(join(dir, 'gold', 'cheap_items.sql'), `/* ---\ncolumns:\n  unit_price:\n    tests: [{ expression: "unit_price < 10" }]\n--- */\nSELECT item_id, unit_price FROM {{ source('core', 'dim_item') }}\n`);
    const cfg = join(s.cwd, 'bad.yaml');
    writeFileSync(cfg, `transform:\n  dir: ${dir}\n`);
    const r = await runCli(['--config', cfg, 'transform', '--inline'], s.env, { cwd: s.cwd });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^corrente: .*gold\/cheap_items\.sql: model cheap_items: test expression\(unit_price: unit_price < 10\) failed with \d+ row\(s\); not published/);
    expect(r.stdout).toMatch(/FAILED expression\(unit_price: unit_price < 10\): [\d,]+ row\(s\), e\.g\.\n\s+\{"item_id":\d+,"unit_price":/);
    expect(r.stdout).toMatch(/all failing rows: .*_audit\/.*\.parquet/);
  });

  it('queued: a worker builds the models; --wait --json reports them as inline; unchanged models are up to date', async () => {
    const worker = await startTransformWorker({ prefix: s.prefix, lakeDir: t.lake.dir, transformsDir: shippedTransformsDir()!, postgresUrl: t.url });
    try {
      // Without --wait: queued, the run id printed, nothing waited for.
      const q = await runCli(['transform', '+dim_item', '--full-refresh', '--json', '--run-id', 'cli-run-2'], s.env, { cwd: s.cwd });
      expect(q.code, q.stderr).toBe(0);
      expect(JSON.parse(q.stdout)).toEqual({ runId: 'cli-run-2', queued: ['items', 'dim_item'] });
      // The same run id with --wait follows that run to its end.
      const r = await runCli(['transform', '+dim_item', '--full-refresh', '--wait', '--json', '--run-id', 'cli-run-2'], s.env, { cwd: s.cwd });
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { ok: boolean; runId: string; models: { model: string; status: string; rows: number; runId: string }[] };
      expect(json).toMatchObject({ ok: true, runId: 'cli-run-2' });
      expect(json.models.map((m) => [m.model, m.status, m.rows, m.runId])).toEqual([
        ['items', 'published', 5000, 'cli-run-2'],
        ['dim_item', 'published', 5000, 'cli-run-2'],
      ]);
      // The worker's completed event follows the run's record: wait for both.
      for (let i = 0; i < 100 && worker.done.length < 2; i++) await sleep(50);
      expect(worker.done.sort()).toEqual(['dim_item', 'items']);
      // Again without --full-refresh: both up to date, shown model by model.
      const again = await runCli(['transform', '+dim_item', '--wait', '--run-id', 'cli-run-3'], s.env, { cwd: s.cwd });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^transform run cli-run-3: 2 model\(s\) queued\n/);
      expect(again.stdout).toMatch(/ {2}up to date +silver\.items +5,000 rows {2}tests: .*\(run cli-run-2: inputs, SQL and options unchanged\)\n/);
      expect(again.stdout).toMatch(/ {2}up to date +gold\.dim_item +5,000 rows/);
      expect(again.stdout).toMatch(/done in [\d.]+ s: 0 published, 2 up to date, 0 failed, 0 skipped\n$/);
    } finally {
      await worker.close();
    }
  });
});
