/**
 * The default lake: a directory per bucket under one root. Writes are atomic (temp file
 * in the same directory, fsync, rename), so a reader or a crash never leaves a partly
 * written object under its real name.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CorrenteError } from '../shared/errors.js';
import { fsErrorCode, toFsStorageError } from './fs-errors.js';
import { bucketDir, isTempName, keyPath, splitPrefix, tempNameFor } from './local-paths.js';
import type { ObjectInfo, ObjectStore, StoreCallOptions } from './object-store.js';
import { abortedError, bucketMissingError, isAbort, missingObjectError, throwIfAborted } from './store-errors.js';

/** One file met while walking a bucket. */
interface WalkEntry {
  readonly key: string;
  readonly path: string;
  readonly temp: boolean;
}

/** Errors meaning "nothing is stored under this name". */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** How often a write retries after a concurrent delete removed its fresh parent dir. */
const PARENT_RACE_ATTEMPTS = 3;

const compareUtf8 = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

/** Flushes a written file so the rename that publishes it cannot outrun its data. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * {@link ObjectStore} over a local directory: bucket `b` is `<root>/b`, key `x/y.parquet`
 * is `<root>/b/x/y.parquet`. Keys with `.`/`..`/empty segments or absolute keys are
 * rejected. A key cannot be both an object and a "directory" of other keys here (S3
 * allows `a` and `a/b` together); such a write fails with `STORAGE_IO`.
 */
export class LocalDirStore implements ObjectStore {
  readonly kind = 'local' as const;
  /** Absolute root directory of the lake. */
  readonly root: string;

  /** @param root Lake directory (`storage.lakeDir`); relative paths resolve against the cwd. */
  constructor(root: string) {
    this.root = resolve(root);
  }

  async ensureBucket(bucket: string, options: StoreCallOptions = {}): Promise<void> {
    throwIfAborted(options.signal, `create bucket ${bucket}`);
    const dir = bucketDir(this.root, bucket);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw this.#fsError(err, dir, 'create directory');
    }
    // Root bypasses permission bits and access() misses some read-only mounts: only a real
    // write proves the directory is writable.
    const probe = join(dir, tempNameFor('write-probe'));
    try {
      const fh = await open(probe, 'wx');
      await fh.close();
    } catch (err) {
      throw this.#fsError(err, probe, 'write');
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  async putFile(bucket: string, key: string, localPath: string, options: StoreCallOptions = {}): Promise<void> {
    const source = resolve(localPath);
    try {
      // Checked first so a missing source is reported as such, not blamed on the lake.
      await stat(source);
    } catch (err) {
      throw toFsStorageError(err, { path: source, action: 'read' });
    }
    await this.#writeAtomically(bucket, key, options.signal, async (tmp) => {
      await copyFile(source, tmp, constants.COPYFILE_EXCL);
      await syncFile(tmp);
    });
  }

  async putBytes(bucket: string, key: string, body: string | Uint8Array, options: StoreCallOptions = {}): Promise<void> {
    await this.#writeAtomically(bucket, key, options.signal, async (tmp) => {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  async getBytes(bucket: string, key: string, options: StoreCallOptions = {}): Promise<Buffer | undefined> {
    const path = keyPath(this.root, bucket, key);
    try {
      return await readFile(path, { signal: options.signal });
    } catch (err) {
      if (isAbort(err, options.signal)) throw abortedError(`read ${path}`, err);
      if (!ABSENT.has(fsErrorCode(err) ?? '')) throw this.#fsError(err, path, 'read');
      // S3 says NoSuchBucket rather than "no such key" when the bucket is gone: match it.
      await this.#requireBucket(bucket);
      return undefined;
    }
  }

  async getFile(bucket: string, key: string, localPath: string, options: StoreCallOptions = {}): Promise<void> {
    const source = keyPath(this.root, bucket, key);
    const target = resolve(localPath);
    throwIfAborted(options.signal, `download ${source}`);
    await this.#requireBucket(bucket);
    try {
      await stat(source);
    } catch (err) {
      if (ABSENT.has(fsErrorCode(err) ?? '')) throw missingObjectError(source, err);
      throw this.#fsError(err, source, 'read');
    }
    const tmp = join(dirname(target), tempNameFor(basename(target)));
    try {
      await mkdir(dirname(target), { recursive: true });
      await copyFile(source, tmp, constants.COPYFILE_EXCL);
      throwIfAborted(options.signal, `download ${source}`);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (fsErrorCode(err) === undefined) throw err;
      throw toFsStorageError(err, { path: target, action: 'write' });
    }
  }

  async *list(bucket: string, prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const dir = await this.#requireBucket(bucket);
    const { dirKey, rest } = splitPrefix(prefix);
    const start = dirKey === '' ? dir : join(dir, ...dirKey.split('/'));
    for await (const entry of this.#walk(start, dirKey, rest, false, options.signal)) {
      try {
        const { size } = await stat(entry.path);
        yield { key: entry.key, size };
      } catch (err) {
        // Deleted between readdir and stat: it is simply no longer listed.
        if (fsErrorCode(err) !== 'ENOENT') throw this.#fsError(err, entry.path, 'read');
      }
    }
  }

  async deleteMany(bucket: string, keys: readonly string[], options: StoreCallOptions = {}): Promise<void> {
    if (keys.length === 0) return;
    // Validate everything before deleting anything, so one bad key cannot leave a half-done batch.
    const paths = keys.map((key) => keyPath(this.root, bucket, key));
    const dir = await this.#requireBucket(bucket);
    for (const path of paths) {
      throwIfAborted(options.signal, `delete in ${dir}`);
      try {
        await unlink(path);
      } catch (err) {
        if (ABSENT.has(fsErrorCode(err) ?? '')) continue;
        throw this.#fsError(err, path, 'delete');
      }
      await this.#pruneEmptyDirs(dirname(path), dir);
    }
  }

  async abortStaleUploads(bucket: string, olderThanMs: number, options: StoreCallOptions = {}): Promise<number> {
    const dir = await this.#requireBucket(bucket);
    const cutoff = Date.now() - olderThanMs;
    const stale: string[] = [];
    for await (const entry of this.#walk(dir, '', '', true, options.signal)) {
      if (!entry.temp) continue;
      try {
        if ((await stat(entry.path)).mtimeMs < cutoff) stale.push(entry.path);
      } catch (err) {
        // The writer finished (renamed) or cleaned up meanwhile.
        if (fsErrorCode(err) !== 'ENOENT') throw this.#fsError(err, entry.path, 'read');
      }
    }
    let removed = 0;
    for (const path of stale) {
      try {
        await unlink(path);
        removed += 1;
      } catch (err) {
        if (fsErrorCode(err) !== 'ENOENT') throw this.#fsError(err, path, 'delete');
      }
      await this.#pruneEmptyDirs(dirname(path), dir);
    }
    return removed;
  }

  localPath(bucket: string, key: string): string {
    return keyPath(this.root, bucket, key);
  }

  uri(bucket: string, key: string): string {
    return keyPath(this.root, bucket, key);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  #fsError(err: unknown, path: string, action: string): CorrenteError {
    return toFsStorageError(err, { path, action, setting: 'LAKE_DIR' });
  }

  /** The bucket directory; `STORAGE_BUCKET_MISSING` when absent, as S3 would answer. */
  async #requireBucket(bucket: string): Promise<string> {
    const dir = bucketDir(this.root, bucket);
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch (err) {
      if (!ABSENT.has(fsErrorCode(err) ?? '')) throw this.#fsError(err, dir, 'read');
    }
    throw bucketMissingError(bucket, dir, 'Create it first (ensureBucket), or check LAKE_DIR');
  }

  /**
   * Runs `write` against a fresh temp path beside the key's file, then renames it into
   * place. `write` must create the temp file exclusively and flush it.
   */
  async #writeAtomically(
    bucket: string,
    key: string,
    signal: AbortSignal | undefined,
    write: (tmp: string) => Promise<void>,
  ): Promise<void> {
    const target = keyPath(this.root, bucket, key);
    const parent = dirname(target);
    throwIfAborted(signal, `write ${target}`);
    await this.#requireBucket(bucket);
    for (let attempt = 1; ; attempt += 1) {
      const tmp = join(parent, tempNameFor(basename(target)));
      try {
        await mkdir(parent, { recursive: true });
        await write(tmp);
        throwIfAborted(signal, `write ${target}`);
        await rename(tmp, target);
        return;
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        if (fsErrorCode(err) === undefined) throw err;
        // deleteMany prunes empty parent dirs; it can remove ours between mkdir and write.
        if (fsErrorCode(err) === 'ENOENT' && attempt < PARENT_RACE_ATTEMPTS) continue;
        throw this.#fsError(err, target, 'write');
      }
    }
  }

  /** Removes now-empty directories from `from` up to (not including) `stopAt`. */
  async #pruneEmptyDirs(from: string, stopAt: string): Promise<void> {
    for (let dir = from; dir !== stopAt && dir.startsWith(stopAt); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        // Not empty (or already gone): everything above it is not empty either.
        return;
      }
    }
  }

  /**
   * Yields files under `dir` (whose key is `dirKey`) in S3 key order: UTF-8 byte order
   * of the full key. Sorting each directory's names with `/` appended to subdirectories
   * gives exactly that order without collecting the whole tree. `namePrefix` filters the
   * top level only (below a matching directory everything matches).
   */
  async *#walk(
    dir: string,
    dirKey: string,
    namePrefix: string,
    includeTemps: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<WalkEntry> {
    throwIfAborted(signal, `list ${dir}`);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      // A prefix whose directory does not exist (or is a file) simply matches nothing.
      if (ABSENT.has(fsErrorCode(err) ?? '')) return;
      throw this.#fsError(err, dir, 'list');
    }
    const children = entries
      .filter((e) => e.name.startsWith(namePrefix) && (e.isDirectory() || e.isFile()))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), order: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name) }))
      .sort((a, b) => compareUtf8(a.order, b.order));
    for (const child of children) {
      const key = dirKey === '' ? child.name : `${dirKey}/${child.name}`;
      const path = join(dir, child.name);
      if (child.isDir) {
        yield* this.#walk(path, key, '', includeTemps, signal);
      } else {
        const temp = isTempName(child.name);
        if (!temp || includeTemps) yield { key, path, temp };
      }
    }
  }
}
