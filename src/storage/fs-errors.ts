/**
 * Turns Node filesystem errors met while storing objects into {@link CorrenteError}s
 * that name the file or directory involved and say what to do.
 */
import { dirname } from 'node:path';
import { CorrenteError } from '../shared/errors.js';

/** errno codes that come from the local filesystem (never from a socket). */
const FS_CODES: ReadonlySet<string> = new Set([
  'ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ENOTDIR', 'EEXIST',
  'ENOTEMPTY', 'EMFILE', 'ENFILE', 'EIO', 'ENAMETOOLONG', 'EXDEV', 'EBUSY', 'ELOOP', 'EFBIG',
]);

/** The errno code of a filesystem error, or `undefined` for anything else. */
export function fsErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FS_CODES.has(code) ? code : undefined;
}

export interface FsErrorContext {
  /** The file or directory the operation was working on. */
  readonly path: string;
  /** What was being done, for the message: `write`, `read`, `create directory`, ... */
  readonly action: string;
  /** The setting that moves this location elsewhere, named in hints (e.g. `LAKE_DIR`). */
  readonly setting?: string;
}

/** Maps a filesystem error to a `STORAGE_IO` error; secrets never occur in paths we build. */
export function toFsStorageError(err: unknown, ctx: FsErrorContext): CorrenteError {
  const code = fsErrorCode(err) ?? (err as { code?: unknown } | null)?.code;
  const { path, action } = ctx;
  const elsewhere = ctx.setting ? `, or set ${ctx.setting} to another directory` : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT': {
      // The directory is what users can act on (df, cleanup), not the temp file name.
      const dir = dirname(path);
      return new CorrenteError('STORAGE_IO', `No space left in ${dir} (${code}) while trying to ${action} ${path}`, {
        hint: `Free space on the disk holding ${dir}${elsewhere}`,
        cause: err,
        retryable: false,
      });
    }
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new CorrenteError('STORAGE_IO', `Permission denied to ${action} ${path} (${code})`, {
        hint: `Make ${dirname(path)} writable by this user${elsewhere}`,
        cause: err,
        retryable: false,
      });
    case 'ENOENT':
      return new CorrenteError('STORAGE_IO', `Cannot ${action} ${path}: it does not exist (ENOENT)`, {
        hint: 'Check the path; it may have been removed while corrente was running',
        cause: err,
        retryable: false,
      });
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
      return new CorrenteError('STORAGE_IO', `Cannot ${action} ${path}: a file and a directory collide on that path (${code})`, {
        hint: `Remove or rename the conflicting entry under ${dirname(path)}`,
        cause: err,
        retryable: false,
      });
    default:
      return new CorrenteError('STORAGE_IO', `Cannot ${action} ${path} (${typeof code === 'string' ? code : 'unknown error'})`, {
        hint: 'Check the disk and filesystem holding this path',
        cause: err,
      });
  }
}
