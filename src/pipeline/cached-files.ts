/**
 * Local paths of lake objects for DuckDB, which cannot read S3 here (no httpfs): a local
 * lake's files in place, a remote store's downloaded once into a cache laid out as
 * `<cacheDir>/<bucket>/<key>`. Keys hold the run id and a run's files never change, so a
 * cached file is that file (of the right size, when the size is known). The cache is
 * bounded by {@link trimCache}: its users (the API, `corrente sql`) trim it to their bound.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
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

/**
 * Removes the least recently used `run-<id>` folders of the cache until it fits in
 * `maxBytes`, never one whose run id is in `keep` (the current runs, and any being read).
 * Returns the bytes removed.
 */
export async function trimCache(cacheDir: string, maxBytes: number, keep: ReadonlySet<string>): Promise<number> {
  const runs = await runFolders(cacheDir);
  let total = runs.reduce((n, r) => n + r.bytes, 0);
  let removed = 0;
  for (const r of runs.sort((a, b) => a.usedAt - b.usedAt)) {
    if (total <= maxBytes) break;
    if (keep.has(r.runId)) continue;
    await rm(r.path, { recursive: true, force: true });
    total -= r.bytes;
    removed += r.bytes;
  }
  return removed;
}

/** `run-<id>` folders under the cache (any depth), with their size and last access. */
async function runFolders(root: string): Promise<{ path: string; runId: string; bytes: number; usedAt: number }[]> {
  const out: { path: string; runId: string; bytes: number; usedAt: number }[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const path = join(dir, e.name);
      if (e.name.startsWith('run-')) {
        let bytes = 0;
        let usedAt = 0;
        for (const f of await readdir(path, { withFileTypes: true }).catch(() => [])) {
          if (!f.isFile()) continue;
          const s = await stat(join(path, f.name)).catch(() => undefined);
          bytes += s?.size ?? 0;
          usedAt = Math.max(usedAt, s?.atimeMs ?? 0, s?.mtimeMs ?? 0);
        }
        out.push({ path, runId: e.name.slice(4), bytes, usedAt });
      } else if (depth < 4) {
        await walk(path, depth + 1);
      }
    }
  };
  await walk(root, 0);
  return out;
}
