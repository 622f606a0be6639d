/**
 * Local paths of lake objects for DuckDB, which cannot read S3 here (no httpfs): a local
 * lake's files in place, a remote store's downloaded once into a cache laid out as
 * `<cacheDir>/<bucket>/<key>`. Keys hold the run id and a run's files never change, so a
 * cached file is that file (of the right size, when the size is known).
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ObjectStore } from '../storage/index.js';

/** One object to resolve; `bytes` (from a manifest) also rejects a truncated cached copy. */
export interface CachedObject {
  key: string;
  bytes?: number;
}

/** Local paths of `objects` of `bucket`, in order, downloading what is not cached yet. */
export async function localPathsOf(store: ObjectStore, cacheDir: string, bucket: string, objects: readonly CachedObject[], signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for (const { key, bytes } of objects) {
    const local = store.localPath(bucket, key);
    if (local !== undefined) {
      out.push(local);
      continue;
    }
    const dest = join(cacheDir, bucket, ...key.split('/'));
    const cached = await stat(dest).catch(() => undefined);
    if (!cached || (bytes !== undefined && cached.size !== bytes)) {
      await mkdir(dirname(dest), { recursive: true });
      const part = `${dest}.${process.pid}.${Date.now()}.part`;
      try {
        await store.getFile(bucket, key, part, { signal });
        await rename(part, dest);
      } finally {
        await rm(part, { force: true });
      }
    }
    out.push(dest);
  }
  return out;
}
