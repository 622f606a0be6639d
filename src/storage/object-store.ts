/**
 * The one storage interface the pipeline sees. Two implementations pass the same
 * conformance tests: a local directory (the default lake) and S3/MinIO.
 */

/** One stored object as listed. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

/** Options shared by long storage operations. */
export interface StoreCallOptions {
  readonly signal?: AbortSignal;
}

export interface ObjectStore {
  /** `local` or `s3`; for messages and manifests. */
  readonly kind: 'local' | 's3';

  /**
   * Checks that the bucket exists and is writable, creating it when allowed.
   * @throws CorrenteError `STORAGE_BUCKET_MISSING`, `STORAGE_AUTH` or `STORAGE_UNREACHABLE`.
   */
  ensureBucket(bucket: string, options?: StoreCallOptions): Promise<void>;

  /**
   * Uploads a local file under `key`, streaming (multipart on S3). Readers never see a
   * partly written object: local writes go to a temp name and are renamed.
   */
  putFile(bucket: string, key: string, localPath: string, options?: StoreCallOptions): Promise<void>;

  /** Writes a small object (manifests, pointers) in one request. */
  putBytes(bucket: string, key: string, body: string | Uint8Array, options?: StoreCallOptions): Promise<void>;

  /** Reads a small object; `undefined` when it does not exist. */
  getBytes(bucket: string, key: string, options?: StoreCallOptions): Promise<Buffer | undefined>;

  /** Streams an object into a local file (created or replaced). */
  getFile(bucket: string, key: string, localPath: string, options?: StoreCallOptions): Promise<void>;

  /** Lists objects whose key starts with `prefix`, in key order. */
  list(bucket: string, prefix: string, options?: StoreCallOptions): AsyncIterable<ObjectInfo>;

  /** Deletes objects; missing keys are not an error. */
  deleteMany(bucket: string, keys: readonly string[], options?: StoreCallOptions): Promise<void>;

  /** Removes leftovers of interrupted uploads older than `olderThanMs`; returns how many. */
  abortStaleUploads(bucket: string, olderThanMs: number, options?: StoreCallOptions): Promise<number>;

  /** A path DuckDB can read directly, when the object is on the local filesystem. */
  localPath(bucket: string, key: string): string | undefined;

  /** A URI for humans and manifests: a file path or `s3://bucket/key`. */
  uri(bucket: string, key: string): string;

  /** Releases clients; idempotent. */
  close(): Promise<void>;
}
