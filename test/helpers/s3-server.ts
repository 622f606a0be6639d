import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListBucketsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** A running in-process S3 server and how to reach it. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  /** Where s3rver keeps its buckets; removed by `close`. */
  readonly directory: string;
  /** Every request received, as `METHOD /path?query`, for asserting what a client sent. */
  readonly requests: string[];
  /** An SDK client with the server's own credentials, for inspecting what was written; closed by `close`. */
  admin(): S3Client;
  /** Every object in every bucket, as `{ bucket, key }`, in listing order. */
  listAll(): Promise<{ bucket: string; key: string }[]>;
  close(): Promise<void>;
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only
 * offers through the legacy provider; without it every listing past 1000 keys answers
 * 500. The provider is chosen at process start, so `NODE_OPTIONS` must reach the worker
 * when it is spawned (vitest's `test.env` does this for the default `forks` pool, not
 * for `threads`). Fail loudly here instead of with an opaque 500 later.
 */
function assertLegacyProvider(): void {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    throw new Error(
      's3rver needs the OpenSSL legacy provider: run the tests with NODE_OPTIONS=--openssl-legacy-provider ' +
        "(vitest.config.ts sets it through test.env, which only reaches 'forks' workers)",
    );
  }
}

/** Starts s3rver on 127.0.0.1, on a free port, over a fresh temp directory. */
export async function startS3Server(): Promise<S3TestServer> {
  assertLegacyProvider();
  const directory = await mkdtemp(join(tmpdir(), 'corrente-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = await server.run();
  const requests: string[] = [];
  server.httpServer?.on('request', (req: { method?: string; url?: string }) => requests.push(`${req.method} ${req.url}`));
  let closed = false;
  const endpoint = `http://127.0.0.1:${port}`;
  // s3rver's built-in account.
  const accessKey = 'S3RVER';
  const secretKey = 'S3RVER';
  let admin: S3Client | undefined;
  const adminClient = (): S3Client =>
    (admin ??= new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }));
  return {
    endpoint,
    accessKey,
    secretKey,
    directory,
    requests,
    admin: adminClient,
    async listAll() {
      const client = adminClient();
      const out: { bucket: string; key: string }[] = [];
      for (const b of (await client.send(new ListBucketsCommand({}))).Buckets ?? []) {
        let token: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: b.Name!, ...(token ? { ContinuationToken: token } : {}) }));
          for (const o of page.Contents ?? []) out.push({ bucket: b.Name!, key: o.Key! });
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      admin?.destroy();
      // Keep-alive sockets from SDK clients would hold close() open until they time out.
      server.httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
