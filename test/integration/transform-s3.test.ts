/**
 * Models over an S3 lake (s3rver): inputs are downloaded once into the cache, keyed by
 * bucket and run, and reused by later models and runs; outputs are uploaded and published.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishManifest, readManifest, manifestKey, readCurrentPointer } from '../../src/lake/index.js';
import { planTransform, queryCurrent, runTransforms, type TransformDeps } from '../../src/pipeline/index.js';
import { S3Store } from '../../src/storage/index.js';
import { SAMPLE_TABLES } from '../../src/demo/index.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

let t: TransformLake;
let s3: S3TestServer;
let store: S3Store;
let deps: TransformDeps;

/** Every file under `dir`, relative. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(dir, join(prefix, e.name)) : [join(prefix, e.name)]));
}

beforeAll(async () => {
  t = await createTransformLake(await sampleDatabase('corrente_transform_test', 3000));
  s3 = await startS3Server();
  store = new S3Store({ endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey, region: 'us-east-1', forcePathStyle: true, createBuckets: true });
  // The exported bronze runs, copied into S3 as they are (files, then manifest and pointer).
  await store.ensureBucket('bronze');
  for (const table of SAMPLE_TABLES) {
    const pointer = (await readCurrentPointer(t.lake.store, 'bronze', table))!;
    const manifest = (await readManifest(t.lake.store, 'bronze', manifestKey(table, pointer.runId)))!;
    for (const f of manifest.files) await store.putFile('bronze', f.key, t.lake.store.localPath('bronze', f.key)!);
    await publishManifest(store, { ...manifest, files: manifest.files.map((f) => ({ ...f, uri: store.uri('bronze', f.key) })) });
  }
  deps = { ...t.deps, store };
});

afterAll(async () => {
  await store?.close();
  await s3?.close();
  await t?.close();
});

describe('transforms over S3', () => {
  it('downloads each input run once into the cache and publishes to the layer buckets', async () => {
    const plan = planTransform(shippedTransformsDir()!, ['+dim_item', 'demand_daily']);
    const first = await runTransforms(deps, plan, { runId: 'transform-20261129T030000Z-0001' });
    expect(first.models.map((m) => [m.model, m.status])).toEqual([
      ['demand_daily', 'published'],
      ['items', 'published'],
      ['dim_item', 'published'],
    ]);
    const cached = files(deps.cacheDir);
    expect(cached.filter((f) => f.startsWith('bronze/'))).toHaveLength(2);
    expect(cached.some((f) => f.startsWith('silver/silver/items/run-transform-20261129T030000Z-0001/part-'))).toBe(true);
    const gets = s3.requests.filter((r) => r.startsWith('GET /bronze/core/dim_item/run-') && r.includes('part-')).length;
    expect(gets).toBe(1);

    // A second run reads the same input runs from the cache: no new download of them.
    await runTransforms(deps, planTransform(shippedTransformsDir()!, ['items']), { runId: 'transform-20261129T030100Z-0002' });
    expect(s3.requests.filter((r) => r.startsWith('GET /bronze/core/dim_item/run-') && r.includes('part-')).length).toBe(gets);

    const back = await queryCurrent(deps, 'gold', { schema: 'gold', name: 'dim_item' }, 'SELECT count(*)::INTEGER AS n, sum(unit_price)::VARCHAR AS s FROM t');
    const local = await t.query('bronze', 'core', 'dim_item', 'SELECT count(*)::INTEGER AS n, sum(unit_price)::VARCHAR AS s FROM t');
    expect(back.rows).toEqual(local);
    expect((await s3.listAll()).some((o) => o.bucket === 'gold' && o.key === 'gold/dim_item/_current.json')).toBe(true);
  });
});
