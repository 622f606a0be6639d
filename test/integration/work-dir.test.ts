/**
 * Work directories left behind by a killed process (Parquet not yet uploaded, pipes,
 * DuckDB spill) are removed by the next worker on the same host, and only those: never a
 * directory of a process that still runs, of another host, or that corrente did not make.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkDir, sweepStaleWorkDirs } from '../../src/pipeline/index.js';
import { createCliSandbox, runCli, type CliSandbox } from '../helpers/cli.js';
import { createTestSchema, type TestSchema } from '../helpers/pg.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'corrente-workdir-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The id of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  if (!pid) throw new Error('could not start `true`');
  return pid;
}

/** A work directory as another process of this host would have named it. */
function hostTag(dir: string): string {
  return /^corrente-work-\d+\.([0-9a-f]{8})-/.exec(dir)![1]!;
}

describe('work directories', () => {
  it('removes those of processes of this host that no longer run, and nothing else', async () => {
    const sweepRoot = join(root, 'sweep');
    const mine = await makeWorkDir(sweepRoot, 'export');
    const host = hostTag(mine.split('/').at(-1)!);
    const dead = join(sweepRoot, `corrente-work-${deadPid()}.${host}-export-abc123`);
    const alive = join(sweepRoot, `corrente-work-${process.ppid}.${host}-verify-def456`);
    const otherHost = join(sweepRoot, `corrente-work-${deadPid()}.${host === '00000000' ? '11111111' : '00000000'}-export-ghi789`);
    const unrelated = join(sweepRoot, 'corrente-s3rver-xyz');
    for (const d of [dead, alive, otherHost, unrelated]) await mkdir(join(d, 'out'), { recursive: true });
    await writeFile(join(dead, 'out', 'part-0.parquet'), Buffer.alloc(1024));

    const removed = await sweepStaleWorkDirs(sweepRoot);
    expect(removed).toEqual([dead]);
    expect((await readdir(sweepRoot)).sort()).toEqual([mine, alive, otherHost, unrelated].map((d) => d.split('/').at(-1)!).sort());
  });

  it('a root that does not exist yet is nothing to sweep', async () => {
    expect(await sweepStaleWorkDirs(join(root, 'missing'))).toEqual([]);
  });
});

describe('a worker starting', () => {
  let db: TestSchema;
  let s: CliSandbox;
  beforeAll(async () => {
    db = await createTestSchema('wdir');
    await db.admin.query(`CREATE TABLE "${db.schema}".t (id int PRIMARY KEY, note text)`);
    await db.admin.query(`INSERT INTO "${db.schema}".t SELECT g, 'n' || g FROM generate_series(1, 1000) g`);
    s = await createCliSandbox();
  });
  afterAll(async () => {
    await s.cleanup();
    await db.drop();
  });

  it('removes what a killed worker left in export.workDir, and its own export leaves nothing', async () => {
    const workDir = join(root, 'worker');
    const probe = await makeWorkDir(workDir, 'probe');
    const host = hostTag(probe.split('/').at(-1)!);
    await rm(probe, { recursive: true });
    const left = join(workDir, `corrente-work-${deadPid()}.${host}-export-k1ll3d`);
    await mkdir(join(left, 'stream-0', 'out'), { recursive: true });
    await writeFile(join(left, 'stream-0', 'out', 'part-0.parquet'), Buffer.alloc(4096));
    const config = join(s.cwd, 'corrente.yaml');
    await writeFile(config, `export:\n  workDir: ${JSON.stringify(workDir)}\n`);

    const r = await runCli(['migrate', '--tables', `${db.schema}.t`, '--inline', '--wait', '--json'], { ...s.env, CORRENTE_CONFIG: config }, { cwd: s.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tables[0]).toMatchObject({ rows: 1000, verification: 'passed' });
    expect(await readdir(workDir)).toEqual([]);
  });
});
