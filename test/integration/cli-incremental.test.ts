/**
 * `corrente migrate` with `tables[].incremental` in corrente.yaml, through the queues and
 * an inline worker: the first run is full, the next one an increment on top of it, and
 * `--full-refresh` starts a new base.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSandbox, runCli, type CliResult, type CliSandbox } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';

let db: TestSchema;
let s: CliSandbox;

beforeAll(async () => {
  db = await createTestSchema('cinc');
  await db.admin.query(`CREATE TABLE "${db.schema}".t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL)`);
  await db.admin.query(`INSERT INTO "${db.schema}".t SELECT g, 'v' || g, now() - interval '1 day' FROM generate_series(1, 500) g`);
  s = await createCliSandbox();
  await writeFile(join(s.cwd, 'corrente.yaml'), `tables:\n  - name: ${db.schema}.t\n    incremental: { column: updated_at, overlap: 1m }\n`);
});
afterAll(async () => {
  await s?.cleanup();
  await db?.drop();
});

async function migrate(...extra: string[]): Promise<{ runId: string; manifest: { kind?: string; totals: { rows: number }; incremental?: { fullReason?: string } } }> {
  const r: CliResult = await runCli(['migrate', '--inline', '--json', ...extra], s.env, { cwd: s.cwd, timeoutMs: 120_000 });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  const manifest = JSON.parse(await readFile(join(s.lakeDir, 'bronze', db.schema, 't', `run-${runId}`, '_manifest.json'), 'utf8'));
  return { runId, manifest };
}

describe('migrate with incremental tables', () => {
  it('exports in full, then only the changes, and in full again with --full-refresh', async () => {
    const first = await migrate();
    expect(first.manifest).toMatchObject({ kind: 'full', totals: { rows: 500 } });
    await db.admin.query(`UPDATE "${db.schema}".t SET v = 'changed', updated_at = now() WHERE id IN (1, 2, 3)`);
    const second = await migrate();
    expect(second.manifest).toMatchObject({ kind: 'incremental', totals: { rows: 3 } });
    const pointer = JSON.parse(await readFile(join(s.lakeDir, 'bronze', db.schema, 't', '_current.json'), 'utf8')) as { runId: string; increments: { runId: string }[] };
    expect(pointer.runId).toBe(first.runId);
    expect(pointer.increments.map((i) => i.runId)).toEqual([second.runId]);
    const third = await migrate('--full-refresh');
    expect(third.manifest).toMatchObject({ kind: 'full', totals: { rows: 500 }, incremental: { fullReason: 'full refresh requested (--full-refresh)' } });
  });
});
