/**
 * Maps what the AWS SDK throws (service errors, Node socket errors, possibly wrapped in
 * `cause` or an AggregateError) onto {@link CorrenteError} codes. Decisions use error
 * names, S3 `Code`s, HTTP statuses and errno codes, never message text.
 */
import { CorrenteError, isCorrenteError } from '../shared/errors.js';
import { redactSecrets } from '../shared/redact.js';
import { abortedError, bucketMissingError, isAbort, missingObjectError } from './store-errors.js';

/** Where a failed S3 call was going; used to build messages. */
export interface S3ErrorContext {
  /** Endpoint for humans, already free of credentials. */
  readonly endpoint: string;
  /** Verb phrase for the message: `upload`, `list`, `check bucket`, ... */
  readonly action: string;
  readonly bucket: string;
  readonly key?: string;
  readonly signal?: AbortSignal | undefined;
  /** Redacted from every message, whatever a server echoes back. */
  readonly secrets: readonly (string | undefined)[];
}

/** Socket-level failures: the server could not be reached or dropped the connection. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH',
  'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EPIPE', 'EADDRNOTAVAIL', 'EPROTO', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** TLS failures: retrying cannot help, the URL scheme or trust store is wrong. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

const AUTH_NAMES: ReadonlySet<string> = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired',
  'InvalidSecurity', 'CredentialsProviderError', 'InvalidClientTokenId', 'MissingSecurityHeader',
]);
const DENIED_NAMES: ReadonlySet<string> = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem']);
const REGION_NAMES: ReadonlySet<string> = new Set([
  'PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException', 'InvalidLocationConstraint',
]);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** Every `code` found on the error, its `cause` chain and AggregateError members. */
function errnoCodes(err: unknown, depth = 0, out: string[] = []): string[] {
  if (depth > 5 || err === null || typeof err !== 'object') return out;
  const e = err as SdkErrorShape;
  if (typeof e.code === 'string') out.push(e.code);
  if (e.cause !== undefined) errnoCodes(e.cause, depth + 1, out);
  if (Array.isArray(e.errors)) for (const inner of e.errors) errnoCodes(inner, depth + 1, out);
  return out;
}

/** The S3 error code (`Code`, else `name`) and HTTP status of an SDK error. */
export function s3ErrorInfo(err: unknown): { name: string | undefined; status: number | undefined } {
  if (err === null || typeof err !== 'object') return { name: undefined, status: undefined };
  const e = err as SdkErrorShape;
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return { name, status };
}

/** Whether the error says "no such bucket" (HeadBucket answers a bare 404 without a body). */
export function isBucketNotFound(err: unknown): boolean {
  const { name, status } = s3ErrorInfo(err);
  return name === 'NoSuchBucket' || name === 'NotFound' || status === 404;
}

/** Whether the error says "no such key". */
export function isKeyNotFound(err: unknown): boolean {
  const { name } = s3ErrorInfo(err);
  return name === 'NoSuchKey' || name === 'NotFound';
}

const AUTH_HINT = 'Verify MINIO_ACCESS_KEY / MINIO_SECRET_KEY (storage.s3.accessKey / secretKey)';

/** Maps any error from an S3 call to a {@link CorrenteError}. */
export function toS3StorageError(err: unknown, ctx: S3ErrorContext): CorrenteError {
  if (err instanceof CorrenteError) return err;
  const target = ctx.key === undefined ? `s3://${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`;
  const clean = (text: string): string => redactSecrets(text, ctx.secrets);
  if (isAbort(err, ctx.signal)) return abortedError(`${ctx.action} ${target}`, err);

  const codes = errnoCodes(err);
  const tls = codes.find((c) => TLS_CODES.has(c));
  if (tls) {
    return new CorrenteError('STORAGE_UNREACHABLE', clean(`TLS connection to object storage at ${ctx.endpoint} failed (${tls})`), {
      hint: 'Use http:// for a server without TLS, or trust its certificate (NODE_EXTRA_CA_CERTS)',
      cause: err,
      retryable: false,
    });
  }
  const { name, status } = s3ErrorInfo(err);
  // The SDK's own timeouts carry a name but no errno code.
  const network = codes.find((c) => NETWORK_CODES.has(c)) ?? (name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
  if (network && status === undefined) {
    return new CorrenteError('STORAGE_UNREACHABLE', clean(`Cannot reach object storage at ${ctx.endpoint} (${network})`), {
      hint: 'Check MinIO is running and MINIO_ENDPOINT is right',
      cause: err,
    });
  }

  const label = `${name ?? 'UnknownError'}${status === undefined ? '' : `, HTTP ${status}`}`;
  if (name === 'NoSuchBucket') {
    return bucketMissingError(ctx.bucket, ctx.endpoint, 'Create the bucket or set storage.s3.createBuckets: true', err);
  }
  if (name === 'NoSuchKey') return missingObjectError(target, err);
  if (name !== undefined && AUTH_NAMES.has(name)) {
    return new CorrenteError('STORAGE_AUTH', clean(`Object storage at ${ctx.endpoint} rejected the credentials (${label})`), {
      hint: AUTH_HINT,
      cause: err,
    });
  }
  if ((name !== undefined && DENIED_NAMES.has(name)) || status === 403) {
    return new CorrenteError('STORAGE_AUTH', clean(`Access denied to ${ctx.action} ${target} at ${ctx.endpoint} (${label})`), {
      hint: `${AUTH_HINT}, and that the key's policy allows this on bucket ${ctx.bucket}`,
      cause: err,
    });
  }
  // HeadBucket against the wrong AWS region answers a bodiless 301.
  if ((name !== undefined && REGION_NAMES.has(name)) || status === 301) {
    return new CorrenteError('STORAGE_IO', clean(`Bucket ${ctx.bucket} is not in the configured region (${label})`), {
      hint: "Set storage.s3.region to the bucket's region",
      cause: err,
      retryable: false,
    });
  }
  if (name === 'InvalidBucketName') {
    return new CorrenteError('CONFIG_INVALID', clean(`Invalid bucket name ${JSON.stringify(ctx.bucket)} (${label})`), {
      hint: 'Bucket names are 3-63 lowercase letters, digits, dots and hyphens; fix storage.buckets',
      option: 'storage.buckets',
      cause: err,
    });
  }
  if (name === 'NotImplemented' || status === 501) {
    return new CorrenteError('STORAGE_IO', clean(`Object storage at ${ctx.endpoint} cannot ${ctx.action} (${label})`), {
      hint: 'Use MinIO or AWS S3; this server lacks an S3 API corrente needs',
      cause: err,
      retryable: false,
    });
  }
  // 5xx, throttling and unknown transport trouble may pass; other 4xx are deterministic.
  const retryable = status === undefined || status >= 500 || status === 429 || name === 'SlowDown' || name === 'RequestTimeout';
  return new CorrenteError('STORAGE_IO', clean(`Failed to ${ctx.action} ${target} at ${ctx.endpoint} (${label})`), {
    hint: retryable ? 'Retry later; check the object storage server logs if it persists' : 'Check the object storage server logs',
    cause: err,
    retryable,
  });
}

/**
 * Whether a store call failed because the server lacks that API (s3rver answers
 * ListMultipartUploads with 501 NotImplemented), so callers can report it and go on.
 */
export function isUnsupportedByServer(err: unknown): boolean {
  if (!isCorrenteError(err) || err.code !== 'STORAGE_IO') return false;
  const { name, status } = s3ErrorInfo(err.cause);
  return name === 'NotImplemented' || status === 501;
}
