/**
 * How the local store maps buckets and keys onto the filesystem, and the naming of its
 * temp files. Keys are untrusted enough (they embed table names) that every mapping is
 * checked to stay inside its bucket directory.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, relative, sep } from 'node:path';
import { CorrenteError } from '../shared/errors.js';

/** Temp files are `.<name>.tmp-<12 hex>`; readers and `list` never show them. */
const TEMP_NAME = /^\.[\s\S]*\.tmp-[0-9a-f]{12}$/;

/** Whether a directory entry is an in-progress (or abandoned) write. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * A fresh temp name beside `name`. The visible part is shortened so the temp name stays
 * under NAME_MAX (255 bytes) even when `name` is close to it.
 */
export function tempNameFor(name: string): string {
  const visible = Array.from(name).slice(0, 40).join('');
  return `.${visible}.tmp-${randomBytes(6).toString('hex')}`;
}

function invalid(what: string, value: string, why: string): CorrenteError {
  return new CorrenteError('STORAGE_IO', `Invalid ${what} ${JSON.stringify(value)}: ${why}`, {
    hint: `Use a relative '/'-separated ${what} without '.', '..' or empty segments`,
    retryable: false,
  });
}

function checkSegment(what: string, value: string, segment: string): void {
  if (segment === '' || segment === '.' || segment === '..') {
    throw invalid(what, value, "it has an empty, '.' or '..' segment");
  }
  if (isTempName(segment)) throw invalid(what, value, 'a segment looks like a corrente temp file');
}

function checkCommon(what: string, value: string): void {
  if (value.includes('\0')) throw invalid(what, value, 'it contains a NUL character');
  if (value.startsWith('/') || isAbsolute(value)) throw invalid(what, value, 'it is an absolute path');
  // On Windows a backslash is a separator, which would let `a\..\..` escape the bucket.
  if (sep === '\\' && value.includes('\\')) throw invalid(what, value, 'it contains a backslash');
}

/** The directory of `bucket` under `root`; rejects names that are not one plain segment. */
export function bucketDir(root: string, bucket: string): string {
  checkCommon('bucket name', bucket);
  if (bucket.includes('/')) throw invalid('bucket name', bucket, "it contains '/'");
  checkSegment('bucket name', bucket, bucket);
  return join(root, bucket);
}

/** The file that holds `key` in `bucket`, guaranteed to lie inside the bucket directory. */
export function keyPath(root: string, bucket: string, key: string): string {
  const dir = bucketDir(root, bucket);
  checkCommon('object key', key);
  for (const segment of key.split('/')) checkSegment('object key', key, segment);
  const full = join(dir, ...key.split('/'));
  const rel = relative(dir, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw invalid('object key', key, 'it leaves its bucket');
  return full;
}

/**
 * Splits a list prefix into the directory it lives in (relative key, possibly empty) and
 * the partial last segment. Only the directory part reaches the filesystem, so only it
 * is validated as a path.
 */
export function splitPrefix(prefix: string): { dirKey: string; rest: string } {
  checkCommon('list prefix', prefix);
  const slash = prefix.lastIndexOf('/');
  const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
  if (dirKey !== '') for (const segment of dirKey.split('/')) checkSegment('list prefix', prefix, segment);
  return { dirKey, rest: prefix.slice(slash + 1) };
}
