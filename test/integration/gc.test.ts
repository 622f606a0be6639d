/**
 * `collectGarbage` and `corrente gc` over a fabricated lake: published, current, unfinished
 * (classic and chunked layout) runs in several tables, run against the local store and
 * against S3 (s3rver). Data files are dummy bytes: gc never reads them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FORMAT, readManifest, runIdTime, scheduledRunId, type CurrentPointer, type Manifest } from '../../src/lake/index.js';
import { collectGarbage, type GarbageReport, type RemovalReason } from '../../src/pipeline/index.js';
import { LocalDirStore, type ObjectStore, S3Store } from '../../src/storage/index.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';

const HOUR = 3_600_000;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const OLDER_THAN_MS = 24 * HOUR;

/** The run id `migrate` would give a run started at `at` (see `newRunId`). */
function runIdAt(at: Date, suffix: string): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${suffix}`;
}

/** A manifest that `readManifest` accepts. */
function makeManifest(bucket: string, prefix: string, runId: string, fileKeys: readonly string[], at: { exportedAt: Date; publishedAt?: Date }): Manifest {
  const [schema, name] = prefix.split('/') as [string, string];
  const startedAt = new Date(at.exportedAt.getTime() - 60_000);
  return {
    format: MANIFEST_FORMAT,
    runId,
    table: { schema, name },
    layer: 'bronze',
    bucket,
    source: { database: '127.0.0.1:5432/test', snapshotTime: startedAt.toISOString(), estimatedRows: 10 },
    columns: [{ name: 'id', pgType: 'int8', nullable: false, parquetType: 'INT64', type: { kind: 'int64' } as never }],
    primaryKey: ['id'],
    textChecksum: 'md5',
    files: fileKeys.map((key) => ({ key, uri: `x://${bucket}/${key}`, rows: 5, bytes: 10, sha256: '0'.repeat(64) })),
    totals: { rows: 5 * fileKeys.length, bytes: 10 * fileKeys.length, files: fileKeys.length },
    verification: { status: at.publishedAt ? 'passed' : 'pending', mismatches: [] },
    timings: {
      startedAt: startedAt.toISOString(),
      exportedAt: at.exportedAt.toISOString(),
      exportSeconds: 60,
      ...(at.publishedAt ? { publishedAt: at.publishedAt.toISOString() } : {}),
    },
  };
}

/** Writes objects and remembers every key and its size. */
class Lake {
  readonly sizes = new Map<string, number>();
  constructor(
    readonly store: ObjectStore,
    readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<void> {
    await this.store.putBytes(this.bucket, key, body);
    this.sizes.set(key, Buffer.byteLength(body));
  }

  /** Dummy parquet parts, each of a different size. */
  async parts(prefix: string, runId: string, names: readonly string[]): Promise<string[]> {
    const keys = names.map((n) => `${prefix}run-${runId}/${n}`);
    for (const [i, key] of keys.entries()) await this.put(key, `PAR1${'x'.repeat(100 + i * 37)}PAR1`);
    return keys;
  }

  async published(prefix: string, runId: string, publishedAt: Date, parts = 2): Promise<void> {
    const keys = await this.parts(prefix, runId, Array.from({ length: parts }, (_, i) => `part-${String(i).padStart(5, '0')}.parquet`));
    const manifest = makeManifest(this.bucket, prefix, runId, keys, { exportedAt: new Date(publishedAt.getTime() - 60_000), publishedAt });
    await this.put(`${prefix}run-${runId}/_manifest.json`, JSON.stringify(manifest, null, 2));
  }

  async staged(prefix: string, runId: string, exportedAt: Date, fileKeys: readonly string[]): Promise<void> {
    await this.put(`${prefix}run-${runId}/_staged.json`, JSON.stringify(makeManifest(this.bucket, prefix, runId, fileKeys, { exportedAt })));
  }

  /** A chunk record like `exportChunk` writes: started at `startedAt`, written `seconds` later. */
  async chunk(prefix: string, runId: string, n: number, startedAt: Date, seconds: number): Promise<void> {
    const record = {
      format: 'corrente.chunk/v1',
      index: n,
      total: 4,
      database: '127.0.0.1:5432/test',
      snapshotTime: new Date(startedAt.getTime() - 60_000).toISOString(),
      estimatedRows: 10,
      files: [{ key: `${prefix}run-${runId}/part-${String(n).padStart(5, '0')}-00000.parquet`, rows: 5, bytes: 10, sha256: '0'.repeat(64) }],
      startedAt: startedAt.toISOString(),
      exportSeconds: seconds,
    };
    await this.put(`${prefix}run-${runId}/_chunks/${String(n).padStart(5, '0')}.json`, JSON.stringify(record));
  }

  async current(prefix: string, runId: string, publishedAt: Date): Promise<void> {
    const pointer: CurrentPointer = {
      runId,
      manifestKey: `${prefix}run-${runId}/_manifest.json`,
      snapshotTime: publishedAt.toISOString(),
      publishedAt: publishedAt.toISOString(),
      files: [...this.sizes.keys()].filter((k) => k.startsWith(`${prefix}run-${runId}/part-`)),
    };
    await this.put(`${prefix}_current.json`, JSON.stringify(pointer));
  }

  /** Objects and bytes under one run, as written. */
  runTotals(prefix: string, runId: string): { objects: number; bytes: number } {
    const entries = [...this.sizes].filter(([k]) => k.startsWith(`${prefix}run-${runId}/`));
    return { objects: entries.length, bytes: entries.reduce((n, [, s]) => n + s, 0) };
  }
}

const FACT = 'core/fact_demand_daily/';
const DIM = 'core/dim_item/';
const FORECASTS = 'analytics/fact_forecasts/';
const CUSTOM = 'core/custom ids/';
const BROKEN = 'core/broken/';

interface Expected {
  /** Every removal gc should make, in report order (table prefix order, then run id). */
  removed: { prefix: string; runId: string; reason: RemovalReason; objects: number; bytes: number }[];
  /** Run ids kept per table. */
  kept: Record<string, string[]>;
  /** Run ids kept with a note, per table, and a word the note must contain. */
  notes: Record<string, Record<string, string>>;
  /** Keys gc must not touch (everything outside removed runs). */
  remaining: string[];
}

/** Builds the lake, relative to `now`, and returns what gc with keepRuns 3 / 24 h must do. */
async function buildLake(lake: Lake, now: Date): Promise<Expected> {
  const ago = (h: number): Date => new Date(now.getTime() - h * HOUR);
  const removed: Expected['removed'] = [];
  const remove = (prefix: string, runId: string, reason: RemovalReason): void => {
    removed.push({ prefix, runId, reason, ...lake.runTotals(prefix, runId) });
  };

  // Keys outside any table or run: never touched.
  await lake.put('README.txt', 'not a table');
  await lake.put('core/notes.txt', 'not a table either');
  await lake.put(`${FACT}extra/notes.txt`, 'under a table, but not a run');

  // The main table: 5 published runs, the newest current; unfinished runs of every kind.
  const fact = [120, 96, 72, 48, 2].map((h, i) => ({ id: runIdAt(ago(h + 0.5), `a${i + 1}00`), at: ago(h) }));
  for (const r of fact) await lake.published(FACT, r.id, r.at);
  await lake.current(FACT, fact[4]!.id, fact[4]!.at);
  // A killed export, staged 49 h ago: abandoned.
  const dead = runIdAt(ago(50), 'dead');
  await lake.staged(FACT, dead, ago(49), await lake.parts(FACT, dead, ['part-00000.parquet', 'part-00001.parquet']));
  // Started 4 h ago, nothing staged yet: may still be running.
  const live = runIdAt(ago(4), 'live');
  await lake.parts(FACT, live, ['part-00000.parquet']);
  // Chunked export whose run id is old (it waited in the queue); its chunk, started 4 h
  // ago, was written 30 min ago.
  const slow = runIdAt(ago(72), 'slow');
  await lake.chunk(FACT, slow, 0, ago(4), 3.5 * 3600);
  await lake.parts(FACT, slow, ['part-00000-00000.parquet']);
  // Chunked export abandoned 28 h ago.
  const chunkedOld = runIdAt(ago(30), 'c0ld');
  await lake.chunk(FACT, chunkedOld, 0, ago(29.5), 1800);
  await lake.chunk(FACT, chunkedOld, 1, ago(28.5), 1800);
  await lake.parts(FACT, chunkedOld, ['part-00000-00000.parquet', 'part-00001-00000.parquet', 'part-00001-00001.parquet']);
  // A scheduled run that died 30 h ago before writing any JSON: its id's time ages it.
  const scheduledDead = scheduledRunId('nightly', ago(30));
  await lake.parts(FACT, scheduledDead, ['part-00000.parquet', 'part-00001.parquet']);
  // Custom run ids: no timestamp in the id.
  await lake.parts(FACT, 'manual-import', ['part-00000.parquet']);
  await lake.staged(FACT, 'manual-staged', ago(40), await lake.parts(FACT, 'manual-staged', ['part-00000.parquet']));

  // Another table with fewer runs than keepRuns: untouched.
  const dim = [30, 1].map((h, i) => ({ id: runIdAt(ago(h + 0.5), `b${i + 1}00`), at: ago(h) }));
  for (const r of dim) await lake.published(DIM, r.id, r.at);
  await lake.current(DIM, dim[1]!.id, dim[1]!.at);

  // The pointer names the oldest run (a rollback): it is kept besides the newest 3.
  const fc = [100, 80, 60, 40, 20].map((h, i) => ({ id: runIdAt(ago(h + 0.5), `c${i + 1}00`), at: ago(h) }));
  for (const r of fc) await lake.published(FORECASTS, r.id, r.at);
  await lake.current(FORECASTS, fc[0]!.id, fc[0]!.at);

  // Run ids whose order differs from publication order: publication order decides.
  const custom = [
    { id: 'c-run', at: ago(90) },
    { id: 'a-run', at: ago(70) },
    { id: 'd-run', at: ago(50) },
    { id: 'b-run', at: ago(10) },
  ];
  for (const r of custom) await lake.published(CUSTOM, r.id, r.at, 1);
  await lake.current(CUSTOM, 'b-run', ago(10));

  // An unreadable pointer: the current run is unknown, so nothing is removed.
  const broken = [200, 150, 100, 50].map((h, i) => ({ id: runIdAt(ago(h + 0.5), `e${i + 1}00`), at: ago(h) }));
  for (const r of broken) await lake.published(BROKEN, r.id, r.at, 1);
  await lake.put(`${BROKEN}_current.json`, '{"runId": ');

  // Report order: tables by prefix, runs by id.
  remove(CUSTOM, 'c-run', 'superseded');
  remove(FACT, fact[0]!.id, 'superseded');
  remove(FACT, fact[1]!.id, 'superseded');
  remove(FACT, chunkedOld, 'unfinished');
  remove(FACT, dead, 'unfinished');
  remove(FACT, 'manual-staged', 'unfinished');
  remove(FACT, scheduledDead, 'unfinished');
  remove(FORECASTS, fc[1]!.id, 'superseded');
  removed.sort((a, b) => (a.prefix === b.prefix ? (a.runId < b.runId ? -1 : 1) : a.prefix < b.prefix ? -1 : 1));

  const gone = (key: string): boolean => removed.some((r) => key.startsWith(`${r.prefix}run-${r.runId}/`));
  const sorted = (ids: string[]): string[] => [...ids].sort();
  return {
    removed,
    kept: {
      [FACT]: sorted([fact[2]!.id, fact[3]!.id, fact[4]!.id, live, slow, 'manual-import']),
      [DIM]: sorted(dim.map((r) => r.id)),
      [FORECASTS]: sorted([fc[0]!.id, fc[2]!.id, fc[3]!.id, fc[4]!.id]),
      [CUSTOM]: sorted(['a-run', 'd-run', 'b-run']),
      [BROKEN]: sorted(broken.map((r) => r.id)),
    },
    notes: { [FACT]: { [live]: 'may still be running', [slow]: 'may still be running', 'manual-import': 'age unknown' } },
    remaining: [...lake.sizes.keys()].filter((k) => !gone(k)).sort(),
  };
}

async function allKeys(store: ObjectStore, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(bucket, '')) keys.push(o.key);
  return keys.sort();
}

/** The removals of a report, flattened like {@link Expected.removed}. */
function removals(report: GarbageReport): Expected['removed'] {
  return report.tables.flatMap((t) => t.removed.map((r) => ({ prefix: t.prefix, ...r })));
}

interface Backend {
  name: string;
  /** s3rver answers ListMultipartUploads with 501 NotImplemented. */
  uploads: 'done' | 'unsupported';
  open(): Promise<{ store: ObjectStore; root?: string }>;
  close(): Promise<void>;
}

function describeGc(backend: Backend): void {
  describe(`collectGarbage: ${backend.name}`, () => {
    let store: ObjectStore;
    let root: string | undefined;
    const bucket = `gc-${randomBytes(4).toString('hex')}`;
    const missingBucket = `gc-missing-${randomBytes(4).toString('hex')}`;
    let lake: Lake;
    let expected: Expected;
    let dryReport: GarbageReport;
    const options = { keepRuns: 3, olderThanMs: OLDER_THAN_MS, now: NOW };

    beforeAll(async () => {
      ({ store, root } = await backend.open());
      await store.ensureBucket(bucket);
      lake = new Lake(store, bucket);
      expected = await buildLake(lake, NOW);
    });

    afterAll(async () => {
      await store?.close();
      await backend.close();
    });

    it('builds manifests that readManifest accepts', async () => {
      const key = [...lake.sizes.keys()].find((k) => k.endsWith('/_manifest.json'))!;
      expect((await readManifest(store, bucket, key))?.format).toBe(MANIFEST_FORMAT);
      expect(await allKeys(store, bucket)).toEqual([...lake.sizes.keys()].sort());
    });

    it('dry run: reports the removals and removes nothing', async () => {
      dryReport = await collectGarbage(store, [bucket, missingBucket], { ...options, dryRun: true });
      expect(dryReport.dryRun).toBe(true);
      expect(removals(dryReport)).toEqual(expected.removed);
      expect(dryReport.totals).toEqual({
        runs: expected.removed.length,
        objects: expected.removed.reduce((n, r) => n + r.objects, 0),
        bytes: expected.removed.reduce((n, r) => n + r.bytes, 0),
      });
      expect(dryReport.buckets).toEqual([
        { bucket, status: 'dry-run', aborted: 0 },
        { bucket: missingBucket, status: 'missing', aborted: 0 },
      ]);
      expect(await allKeys(store, bucket)).toEqual([...lake.sizes.keys()].sort());
    });

    it('removes superseded and abandoned runs, keeps the current, the newest and the recent ones', async () => {
      const report = await collectGarbage(store, [bucket, missingBucket], options);
      expect(report.dryRun).toBe(false);
      expect(removals(report)).toEqual(expected.removed);
      expect(report.totals).toEqual(dryReport.totals);
      expect(report.tables.map((t) => ({ prefix: t.prefix, kept: t.kept, removed: t.removed }))).toEqual(
        dryReport.tables.map((t) => ({ prefix: t.prefix, kept: t.kept, removed: t.removed })),
      );
      expect(await allKeys(store, bucket)).toEqual(expected.remaining);

      const byPrefix = new Map(report.tables.map((t) => [t.prefix, t]));
      expect([...byPrefix.keys()].sort()).toEqual([BROKEN, CUSTOM, DIM, FACT, FORECASTS].sort());
      for (const [prefix, kept] of Object.entries(expected.kept)) expect(byPrefix.get(prefix)?.kept, prefix).toEqual(kept);
      // The current run of the forecasts table is its oldest, and is kept.
      const forecasts = byPrefix.get(FORECASTS)!;
      expect(forecasts.kept[0]).toBe(forecasts.current);
      // Kept unfinished runs say why.
      for (const [runId, word] of Object.entries(expected.notes[FACT]!)) {
        expect(byPrefix.get(FACT)!.notes.find((n) => n.runId === runId)?.note, runId).toContain(word);
      }
      expect(byPrefix.get(BROKEN)!.skipped).toContain('_current.json');
      expect(byPrefix.get(BROKEN)!.removed).toEqual([]);
      expect(byPrefix.get(DIM)!.removed).toEqual([]);
      expect(report.buckets).toEqual([
        { bucket, status: backend.uploads, aborted: 0, ...(backend.uploads === 'unsupported' ? { detail: expect.any(String) } : {}) },
        { bucket: missingBucket, status: 'missing', aborted: 0 },
      ]);
    });

    it('a second gc finds nothing more to remove', async () => {
      const report = await collectGarbage(store, [bucket], options);
      expect(report.totals).toEqual({ runs: 0, objects: 0, bytes: 0 });
      expect(await allKeys(store, bucket)).toEqual(expected.remaining);
    });

    it('an unfinished run is collected once everything known about it is old enough', async () => {
      // 5 h later with a 6 h limit (cutoff NOW - 1 h): the run started 4 h before NOW
      // ("live") is old enough; the chunked one ("slow") is not: its chunk started 4 h
      // before NOW but was written 30 min before NOW (startedAt + exportSeconds).
      const later = { ...options, olderThanMs: 6 * HOUR, now: new Date(NOW.getTime() + 5 * HOUR), dryRun: true };
      let fact = (await collectGarbage(store, [bucket], later)).tables.find((t) => t.prefix === FACT)!;
      expect(fact.removed.map((r) => [r.runId.slice(-4), r.reason])).toEqual([['live', 'unfinished']]);
      expect(fact.notes.map((n) => n.runId)).toEqual([expect.stringMatching(/-slow$/), 'manual-import']);
      // Another 1 h later, both go; the run with no known time never does.
      fact = (await collectGarbage(store, [bucket], { ...later, now: new Date(NOW.getTime() + 6 * HOUR) })).tables.find((t) => t.prefix === FACT)!;
      expect(fact.removed.map((r) => [r.runId.slice(-4), r.reason])).toEqual([
        ['slow', 'unfinished'],
        ['live', 'unfinished'],
      ]);
      expect(fact.notes.map((n) => n.runId)).toEqual(['manual-import']);
    });

    if (backend.uploads === 'done') {
      it('removes stale temp files of interrupted local writes', async () => {
        const dir = join(root!, bucket, ...DIM.split('/').filter(Boolean), `run-${expected.kept[DIM]![1]}`);
        const stale = join(dir, '.part-00001.parquet.tmp-0123456789ab');
        const fresh = join(dir, '.part-00002.parquet.tmp-ba9876543210');
        await writeFile(stale, 'partial');
        await writeFile(fresh, 'partial');
        const old = new Date(Date.now() - 2 * OLDER_THAN_MS);
        await utimes(stale, old, old);
        const report = await collectGarbage(store, [bucket], options);
        expect(report.abortedUploads).toBe(1);
        await expect(stat(stale)).rejects.toMatchObject({ code: 'ENOENT' });
        await stat(fresh);
        await rm(fresh);
        expect(await allKeys(store, bucket)).toEqual(expected.remaining);
      });
    }
  });
}

let s3: S3TestServer | undefined;
let localRoot: string | undefined;

describeGc({
  name: 'local directory',
  uploads: 'done',
  async open() {
    localRoot = await mkdtemp(join(tmpdir(), 'corrente-gc-'));
    return { store: new LocalDirStore(localRoot), root: localRoot };
  },
  async close() {
    if (localRoot) await rm(localRoot, { recursive: true, force: true });
  },
});

describeGc({
  name: 'S3 (s3rver)',
  uploads: 'unsupported',
  async open() {
    s3 = await startS3Server();
    return {
      store: new S3Store({ endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: 'us-east-1', forcePathStyle: true, createBuckets: true }),
    };
  },
  async close() {
    await s3?.close();
  },
});

describe('runIdTime', () => {
  it.each([
    ['20261126T105300Z-3f9a', '2026-11-26T10:53:00.000Z'],
    ['20261126T105300Z', '2026-11-26T10:53:00.000Z'],
    ['20261326T105300Z-3f9a', undefined],
    ['20261126T105300Z3f9a', undefined],
    ['manual-import', undefined],
  ])('%s', (id, iso) => {
    expect(runIdTime(id)?.toISOString()).toBe(iso);
  });
});

describe('corrente gc (CLI)', () => {
  const cliPath = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
  let dir: string;
  let lake: Lake;
  let expected: Expected;

  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        NODE_OPTIONS: process.env.NODE_OPTIONS ?? '',
        LAKE_DIR: join(dir, 'lake'),
      };
      execFile(process.execPath, [cliPath, ...args], { cwd: dir, env, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corrente-gc-cli-'));
    const store = new LocalDirStore(join(dir, 'lake'));
    await store.ensureBucket('bronze');
    lake = new Lake(store, 'bronze');
    expected = await buildLake(lake, new Date());
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rejects bad flags with one line and exit code 2', async () => {
    const hours = await cli(['gc', '--older-than-hours', 'soon']);
    expect(hours.code).toBe(2);
    expect(hours.stderr.trim().split('\n')).toHaveLength(1);
    expect(hours.stderr).toContain('--older-than-hours');
    const keep = await cli(['gc', '--keep', '0']);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toContain('--keep');
    expect((await cli(['gc', '--keep', '2.5'])).code).toBe(2);
  });

  it('--dry-run prints one line per run it would remove, and removes nothing', async () => {
    const out = await cli(['gc', '--dry-run']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    const removedLines = lines.filter((l) => l.includes(': would remove run-'));
    expect(removedLines).toHaveLength(expected.removed.length);
    for (const [i, r] of expected.removed.entries()) {
      expect(removedLines[i]).toMatch(new RegExp(`^bronze/${r.prefix}: would remove run-${r.runId} \\(${r.reason}, ${r.objects} objects, [0-9.]+ (B|KiB)\\)$`));
    }
    expect(lines.at(-1)).toMatch(new RegExp(`^dry run: would remove ${expected.removed.length} runs \\(`));
    expect(lines).toContain('silver: bucket does not exist, nothing to collect');
    expect(await allKeys(lake.store, 'bronze')).toEqual([...lake.sizes.keys()].sort());
  });

  it('--json removes and prints the report', async () => {
    const out = await cli(['gc', '--json']);
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as GarbageReport;
    expect(report.keepRuns).toBe(3);
    expect(report.olderThanMs).toBe(OLDER_THAN_MS);
    expect(removals(report)).toEqual(expected.removed);
    expect(await allKeys(lake.store, 'bronze')).toEqual(expected.remaining);
  });

  it('--keep 1 keeps only the newest published run (and the current one)', async () => {
    const out = await cli(['gc', '--keep', '1']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/removed 7 runs/);
    expect(out.stdout).toContain(`bronze/${FORECASTS}: removed run-${expected.kept[FORECASTS]![1]} (superseded`);
  });

  it('warns when --older-than-hours is shorter than a job may run', async () => {
    const out = await cli(['gc', '--dry-run', '--older-than-hours', '1']);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('warning');
  });
});
