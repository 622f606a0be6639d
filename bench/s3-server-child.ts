/**
 * An s3rver (in-process S3 server) in a process of its own, for the `corrente-s3`
 * measurement. Mirrors test/helpers/s3-server.ts (which tsconfig.build.json does not
 * compile). Must run with NODE_OPTIONS=--openssl-legacy-provider (s3rver encrypts
 * listing continuation tokens with DES; without it listings past 1000 keys answer 500);
 * bench/s3-server.ts sets it when spawning this file.
 *
 * Prints one JSON line { endpoint, accessKey, secretKey, directory } once listening;
 * SIGTERM/SIGINT closes it and removes its directory. Exits on its own if orphaned.
 */
import { createCipheriv } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface S3rverInstance {
  httpServer?: Server;
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: { address?: string; port?: number; directory?: string; silent?: boolean }) => S3rverInstance;

try {
  createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
} catch {
  process.stderr.write('s3-server-child: needs NODE_OPTIONS=--openssl-legacy-provider\n');
  process.exit(2);
}

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
const directory = await mkdtemp(join(tmpdir(), 'corrente-bench-s3rver-'));
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', directory })}\n`);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  server.httpServer?.closeAllConnections();
  await server.close().catch(() => {});
  await rm(directory, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown();
}, 2_000).unref();
// Keep the process alive until signalled.
setInterval(() => {}, 1 << 30);
