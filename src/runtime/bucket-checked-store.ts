/**
 * An {@link ObjectStore} that probes each bucket once per process: `migrate --inline`
 * checks the buckets up front, then its export jobs would probe them again (a HEAD plus a
 * write and a delete on S3 per job).
 */
import type { ObjectInfo, ObjectStore, StoreCallOptions } from '../storage/index.js';

/**
 * Forwards everything to `inner`, except that `ensureBucket` remembers buckets that passed.
 * A failed or aborted probe is not remembered, so the next call probes again. A bucket
 * removed later fails at its first write with the store's own clear error.
 */
export class BucketCheckedStore implements ObjectStore {
  readonly #inner: ObjectStore;
  readonly #checked = new Set<string>();

  constructor(inner: ObjectStore) {
    this.#inner = inner;
  }

  get kind(): ObjectStore['kind'] {
    return this.#inner.kind;
  }

  async ensureBucket(bucket: string, options?: StoreCallOptions): Promise<void> {
    if (this.#checked.has(bucket)) return;
    await this.#inner.ensureBucket(bucket, options);
    this.#checked.add(bucket);
  }

  putFile(bucket: string, key: string, localPath: string, options?: StoreCallOptions): Promise<void> {
    return this.#inner.putFile(bucket, key, localPath, options);
  }

  putBytes(bucket: string, key: string, body: string | Uint8Array, options?: StoreCallOptions): Promise<void> {
    return this.#inner.putBytes(bucket, key, body, options);
  }

  getBytes(bucket: string, key: string, options?: StoreCallOptions): Promise<Buffer | undefined> {
    return this.#inner.getBytes(bucket, key, options);
  }

  getFile(bucket: string, key: string, localPath: string, options?: StoreCallOptions): Promise<void> {
    return this.#inner.getFile(bucket, key, localPath, options);
  }

  list(bucket: string, prefix: string, options?: StoreCallOptions): AsyncIterable<ObjectInfo> {
    return this.#inner.list(bucket, prefix, options);
  }

  deleteMany(bucket: string, keys: readonly string[], options?: StoreCallOptions): Promise<void> {
    return this.#inner.deleteMany(bucket, keys, options);
  }

  abortStaleUploads(bucket: string, olderThanMs: number, options?: StoreCallOptions): Promise<number> {
    return this.#inner.abortStaleUploads(bucket, olderThanMs, options);
  }

  localPath(bucket: string, key: string): string | undefined {
    return this.#inner.localPath(bucket, key);
  }

  uri(bucket: string, key: string): string {
    return this.#inner.uri(bucket, key);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
