/**
 * Starts bench/s3-server-child.ts (s3rver) with the OpenSSL legacy provider it needs and
 * returns its endpoint. Running it in a child keeps the harness free of that flag and
 * lets us see the server's own RSS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, type ChildHandle } from './proc.js';
import { benchScript } from './paths.js';

export interface S3Endpoint {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  directory: string;
}

export interface S3ServerChild extends S3Endpoint {
  handle: ChildHandle;
  close(): Promise<void>;
}

export async function startS3ServerChild(timeoutMs = 30_000): Promise<S3ServerChild> {
  const nodeOptions = [process.env.NODE_OPTIONS, '--openssl-legacy-provider'].filter(Boolean).join(' ');
  const handle = startChild('s3rver', process.execPath, [benchScript('s3-server-child.js')], {
    env: { NODE_OPTIONS: nodeOptions },
    timeoutMs: 20 * 60_000,
  });
  const t0 = performance.now();
  while (!handle.stdout.includes('\n')) {
    if (!handle.running) {
      handle.assertOk(await handle.exited);
      throw new Error('s3rver child exited before printing its endpoint');
    }
    if (performance.now() - t0 > timeoutMs) {
      await handle.stop(2_000);
      throw new Error(`s3rver child did not start within ${timeoutMs / 1000} s: ${handle.stderr}`);
    }
    await sleep(50);
  }
  const info = JSON.parse(handle.stdout.split('\n')[0]!) as S3Endpoint;
  return {
    ...info,
    handle,
    async close() {
      await handle.stop(10_000);
    },
  };
}
