/**
 * The storage layer: one {@link ObjectStore} interface, a local-directory lake and an
 * S3/MinIO store, and the factory that picks one from the config.
 */
import type { StorageConfig } from '../config/index.js';
import { LocalDirStore } from './local-dir-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store } from './s3-store.js';

export type { ObjectInfo, ObjectStore, StoreCallOptions } from './object-store.js';
export { LocalDirStore } from './local-dir-store.js';
export { S3Store, type S3StoreOptions } from './s3-store.js';
export { isUnsupportedByServer } from './s3-errors.js';

/**
 * The store `config` selects: `kind: 'local'` writes under `lakeDir`, `kind: 's3'` talks
 * to `s3.endpoint` (AWS S3 when unset). The caller owns the store and must `close()` it.
 * @throws CorrenteError `CONFIG_INVALID` when only one of the S3 keys is set.
 */
export function createObjectStore(config: StorageConfig): ObjectStore {
  if (config.kind === 'local') return new LocalDirStore(config.lakeDir);
  return new S3Store(config.s3);
}
