/**
 * {@link ObjectStore} over S3 or MinIO with the AWS SDK v3: streamed multipart uploads,
 * paginated listing and batched deletes, every failure mapped to a CorrenteError.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { Upload as S3Upload } from '@aws-sdk/lib-storage';
import { CorrenteError } from '../shared/errors.js';
import { redactUrls } from '../shared/redact.js';
import { fsErrorCode, toFsStorageError } from './fs-errors.js';
import { tempNameFor } from './local-paths.js';
import type { ObjectInfo, ObjectStore, StoreCallOptions } from './object-store.js';
import { isBucketNotFound, isKeyNotFound, s3ErrorInfo, toS3StorageError } from './s3-errors.js';
import { bucketMissingError, throwIfAborted } from './store-errors.js';

/** Options of {@link S3Store}; normally `storage.s3` from the config. */
export interface S3StoreOptions {
  /** Server URL, e.g. `http://127.0.0.1:9000` for MinIO; omit for AWS S3 itself. */
  endpoint?: string;
  /** Access key id; with `secretKey` omitted too, the AWS default credential chain is used. */
  accessKey?: string;
  /** Secret key; kept in a private field, never logged or serialised. */
  secretKey?: string;
  /** Signing region; MinIO accepts `us-east-1` unless configured otherwise. */
  region: string;
  /** Path-style URLs (`host/bucket/key`), which MinIO and most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Whether `ensureBucket` creates a missing bucket instead of failing. */
  createBuckets: boolean;
}

/** Part size of multipart uploads: 16 MiB keeps a 256 MB file at 16 parts. */
const PART_SIZE = 16 * 1024 * 1024;
/** Parts in flight per upload; memory use is about queueSize x partSize. */
const QUEUE_SIZE = 2;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;
/** Attempts per request, first one included: enough for a blip, short for a dead server. */
const MAX_ATTEMPTS = 3;
/** Time to open a TCP connection; beyond it the server is unreachable, not slow. */
const CONNECT_TIMEOUT_MS = 3_000;
/** Idle time on an open socket before giving up; data still flowing never trips it. */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** The AWS SDK modules and one store's client. */
interface Sdk {
  s3: typeof S3Sdk;
  Upload: typeof S3Upload;
  client: S3Sdk.S3Client;
}

let sdkModules: Promise<Omit<Sdk, 'client'>> | undefined;

/**
 * The AWS SDK is imported when the first S3 store is made, not when this module is: every
 * command that may export imports the storage layer, and the SDK alone costs ~0.15 s of CPU
 * at start (bench/README.md, "Whole command"), wasted on a local lake.
 */
function loadSdk(): Promise<Omit<Sdk, 'client'>> {
  return (sdkModules ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({ s3, Upload: storage.Upload })));
}

/** See {@link ObjectStore}. `localPath` is always `undefined`: objects are remote. */
export class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  /** The endpoint for messages, credentials removed. */
  readonly endpoint: string;
  /** The SDK and this store's client, loaded on construction. */
  readonly #sdk: Promise<Sdk>;
  readonly #secretKey: string | undefined;
  readonly #region: string;
  readonly #createBuckets: boolean;
  #closed = false;

  /** @throws CorrenteError `CONFIG_INVALID` when only one of accessKey / secretKey is set. */
  constructor(options: S3StoreOptions) {
    if (Boolean(options.accessKey) !== Boolean(options.secretKey)) {
      throw new CorrenteError('CONFIG_INVALID', 'Object storage access key and secret key must be set together', {
        hint: 'Set both MINIO_ACCESS_KEY and MINIO_SECRET_KEY, or neither to use the AWS default credentials',
        option: options.accessKey ? 'storage.s3.secretKey' : 'storage.s3.accessKey',
      });
    }
    this.#secretKey = options.secretKey;
    this.#region = options.region;
    this.#createBuckets = options.createBuckets;
    this.endpoint = options.endpoint ? redactUrls(options.endpoint) : `AWS S3 (${options.region})`;
    const accessKeyId = options.accessKey;
    this.#sdk = loadSdk().then((sdk) => ({
      ...sdk,
      client: new sdk.s3.S3Client({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        forcePathStyle: options.forcePathStyle,
        // A provider function keeps the secret in this closure, out of the client's config object.
        ...(accessKeyId ? { credentials: async () => ({ accessKeyId, secretAccessKey: this.#secretKey ?? '' }) } : {}),
        // The SDK's default (checksums on every request) sends aws-chunked bodies that servers
        // without that extension store verbatim, framing included.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: MAX_ATTEMPTS,
        retryMode: 'standard',
        // Options object: the SDK builds its NodeHttpHandler from it, no direct dependency needed.
        requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
      }),
    }));
    // Awaited by every call; a failed load is reported there, not as an unhandled rejection.
    this.#sdk.catch(() => undefined);
  }

  async ensureBucket(bucket: string, options: StoreCallOptions = {}): Promise<void> {
    const { client, s3 } = await this.#sdk;
    const { signal } = options;
    throwIfAborted(signal, `check bucket ${bucket}`);
    try {
      await client.send(new s3.HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
    } catch (err) {
      if (!isBucketNotFound(err)) throw this.#error(err, 'check bucket', bucket, undefined, signal);
      if (!this.#createBuckets) {
        throw bucketMissingError(bucket, this.endpoint, 'Create the bucket, or set storage.s3.createBuckets: true', err);
      }
      await this.#createBucket(bucket, signal);
    }
    // HeadBucket only proves read access; a read-only key should fail now, not after an export.
    const probe = `.corrente-write-probe-${randomBytes(6).toString('hex')}`;
    try {
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: probe, Body: new Uint8Array(0), ContentLength: 0 }), { abortSignal: signal });
      await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: probe }), { abortSignal: signal });
    } catch (err) {
      throw this.#error(err, 'write to', bucket, undefined, signal);
    }
  }

  async putFile(bucket: string, key: string, localPath: string, options: StoreCallOptions = {}): Promise<void> {
    const { signal } = options;
    const source = resolve(localPath);
    throwIfAborted(signal, `upload ${source}`);
    let handle;
    try {
      // Opened up front so a missing or unreadable source is reported as a local problem.
      handle = await open(source, 'r');
    } catch (err) {
      throw toFsStorageError(err, { path: source, action: 'read' });
    }
    const body = handle.createReadStream();
    // Upload takes an AbortController, not a signal; bridge the caller's signal to it.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const { Upload, client } = await this.#sdk;
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        // On failure Upload aborts the multipart upload, so no orphan parts are billed.
        leavePartsOnError: false,
        abortController: controller,
      });
      await upload.done();
    } catch (err) {
      if (fsErrorCode(err) !== undefined) throw toFsStorageError(err, { path: source, action: 'read' });
      throw this.#error(err, 'upload', bucket, key, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Closes the file handle too (autoClose), also when the upload stopped mid-stream.
      body.destroy();
    }
  }

  async putBytes(bucket: string, key: string, body: string | Uint8Array, options: StoreCallOptions = {}): Promise<void> {
    const { client, s3 } = await this.#sdk;
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    try {
      // An explicit length: the SDK cannot infer 0 and warns about "a stream of unknown length".
      await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength }), {
        abortSignal: options.signal,
      });
    } catch (err) {
      throw this.#error(err, 'write', bucket, key, options.signal);
    }
  }

  async getBytes(bucket: string, key: string, options: StoreCallOptions = {}): Promise<Buffer | undefined> {
    const { client, s3 } = await this.#sdk;
    try {
      const response = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: options.signal,
      });
      if (!response.Body) return Buffer.alloc(0);
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (s3ErrorInfo(err).name === 'NoSuchKey') return undefined;
      throw this.#error(err, 'read', bucket, key, options.signal);
    }
  }

  async getFile(bucket: string, key: string, localPath: string, options: StoreCallOptions = {}): Promise<void> {
    const { client, s3 } = await this.#sdk;
    const { signal } = options;
    const target = resolve(localPath);
    let response: S3Sdk.GetObjectCommandOutput;
    try {
      response = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      throw this.#error(err, 'download', bucket, key, signal);
    }
    // Written beside the target and renamed, so the target is never half a download.
    const tmp = join(dirname(target), tempNameFor(basename(target)));
    try {
      await mkdir(dirname(target), { recursive: true });
      const body = (response.Body as Readable | undefined) ?? Readable.from([]);
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }), { signal });
      await rename(tmp, target);
    } catch (err) {
      // An unread body would pin its keep-alive socket.
      (response.Body as Readable | undefined)?.destroy();
      await rm(tmp, { force: true }).catch(() => undefined);
      if (fsErrorCode(err) !== undefined) throw toFsStorageError(err, { path: target, action: 'write' });
      throw this.#error(err, 'download', bucket, key, signal);
    }
  }

  async *list(bucket: string, prefix: string, options: StoreCallOptions = {}): AsyncIterable<ObjectInfo> {
    const { client, s3 } = await this.#sdk;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(
          new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix === '' ? undefined : prefix, ContinuationToken: token }),
          { abortSignal: options.signal },
        );
      } catch (err) {
        throw this.#error(err, 'list', bucket, prefix === '' ? undefined : `${prefix}*`, options.signal);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async deleteMany(bucket: string, keys: readonly string[], options: StoreCallOptions = {}): Promise<void> {
    const { client, s3 } = await this.#sdk;
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      let result;
      try {
        result = await client.send(
          new s3.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
          { abortSignal: options.signal },
        );
      } catch (err) {
        throw this.#error(err, 'delete', bucket, batch[0], options.signal);
      }
      // DeleteObjects answers 200 and reports per-key failures in its body.
      const failure = (result.Errors ?? []).find((e) => e.Code !== 'NoSuchKey');
      if (failure) {
        const err = Object.assign(new Error(failure.Message ?? 'DeleteObjects failed'), { name: failure.Code ?? 'UnknownError' });
        throw this.#error(err, 'delete', bucket, failure.Key, options.signal);
      }
    }
  }

  async abortStaleUploads(bucket: string, olderThanMs: number, options: StoreCallOptions = {}): Promise<number> {
    const { client, s3 } = await this.#sdk;
    const { signal } = options;
    const cutoff = Date.now() - olderThanMs;
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await client.send(
          new s3.ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          { abortSignal: signal },
        );
      } catch (err) {
        throw this.#error(err, 'list multipart uploads in', bucket, undefined, signal);
      }
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() >= cutoff) continue;
        try {
          await client.send(
            new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
            { abortSignal: signal },
          );
          aborted += 1;
        } catch (err) {
          // Completed or aborted by someone else since the listing.
          if (s3ErrorInfo(err).name === 'NoSuchUpload' || isKeyNotFound(err)) continue;
          throw this.#error(err, 'abort multipart upload of', bucket, upload.Key, signal);
        }
      }
      if (!page.IsTruncated) return aborted;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  localPath(): undefined {
    return undefined;
  }

  uri(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    (await this.#sdk.catch(() => undefined))?.client.destroy();
  }

  /** Never shows the secret, whatever serialiser a logger uses. */
  toJSON(): { kind: 's3'; endpoint: string; region: string } {
    return { kind: this.kind, endpoint: this.endpoint, region: this.#region };
  }

  async #createBucket(bucket: string, signal: AbortSignal | undefined): Promise<void> {
    const { client, s3 } = await this.#sdk;
    try {
      await client.send(
        new s3.CreateBucketCommand({
          Bucket: bucket,
          // AWS rejects an explicit us-east-1 constraint and requires it everywhere else.
          ...(this.#region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: this.#region as S3Sdk.BucketLocationConstraint } }),
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      const { name } = s3ErrorInfo(err);
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') {
        throw this.#error(err, 'create bucket', bucket, undefined, signal);
      }
      // Another worker won the race, or the name belongs to someone else: HeadBucket tells which.
      try {
        await client.send(new s3.HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
      } catch (headErr) {
        throw this.#error(headErr, 'use bucket', bucket, undefined, signal);
      }
    }
  }

  #error(err: unknown, action: string, bucket: string, key: string | undefined, signal: AbortSignal | undefined): CorrenteError {
    return toS3StorageError(err, {
      endpoint: this.endpoint,
      action,
      bucket,
      ...(key === undefined ? {} : { key }),
      signal,
      secrets: [this.#secretKey],
    });
  }
}
