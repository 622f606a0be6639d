/**
 * The fault-injection proxy itself: each mode does what it says, bodies stream both ways,
 * and S3 requests signed for the proxy's address pass through to s3rver intact.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultyProxy, type FaultyProxy } from '../helpers/faulty-proxy.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

interface Reply {
  status: number;
  body: Buffer;
}

/** One request with a fresh connection unless `agent` is given; rejects on socket errors. */
function request(url: string, opts: { method?: string; body?: Buffer; timeoutMs?: number; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('faulty-proxy', () => {
  let upstream: http.Server;
  let upstreamUrl: string;
  let proxy: FaultyProxy;

  beforeAll(async () => {
    // Echoes the request body back, with a header saying how many bytes came in.
    upstream = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        res.writeHead(200, { 'x-received': String(body.length), 'content-length': body.length });
        res.end(body);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    proxy = await startFaultyProxy({ target: upstreamUrl });
  });

  afterAll(async () => {
    await proxy?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((r) => upstream?.close(() => r()));
  });

  it('refuses a non-loopback upstream', async () => {
    await expect(startFaultyProxy({ target: 'http://example.com:80' })).rejects.toThrow(/loopback/);
  });

  it('passes bodies through both ways', async () => {
    proxy.pass();
    const body = randomBytes(5 * 1024 * 1024);
    const before = proxy.stats();
    const r = await request(`${proxy.url}/echo`, { method: 'PUT', body });
    expect(r.status).toBe(200);
    expect(r.body.equals(body)).toBe(true);
    const after = proxy.stats();
    expect(after.forwarded - before.forwarded).toBe(1);
    expect(after.faults).toBe(before.faults);
  });

  it('fails exactly every k-th request with 503, counted from the switch', async () => {
    proxy.failEvery(3);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await request(`${proxy.url}/x${i}`, { method: 'PUT', body: Buffer.alloc(1000) })).status);
    expect(statuses).toEqual([200, 200, 503, 200, 200, 503, 200, 200, 503]);
    const r = await request(`${proxy.url}/y`, { method: 'PUT', body: Buffer.alloc(10) });
    expect(r.status).toBe(200);
    expect(proxy.recent().filter((x) => x.outcome === 'injected-503')).toHaveLength(3);
    proxy.pass();
  });

  it('delays responses past a client timeout', async () => {
    proxy.delay(800);
    const started = Date.now();
    await expect(request(`${proxy.url}/slow`, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT' });
    const ok = await request(`${proxy.url}/slow2`, { timeoutMs: 5000 });
    expect(ok.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(proxy.stats().delayed).toBeGreaterThanOrEqual(2);
    proxy.pass();
  });

  it('resets open and new connections during an outage, then recovers', async () => {
    proxy.pass();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await request(`${proxy.url}/a`, { agent })).status).toBe(200);
      const resetsBefore = proxy.stats().resets;
      const over = proxy.outage(400, 'reset');
      await expect(request(`${proxy.url}/b`)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
      expect(proxy.stats().resets).toBeGreaterThan(resetsBefore);
      await over;
      expect(proxy.mode.kind).toBe('pass');
      expect((await request(`${proxy.url}/c`)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('answers 503 to everything in a 503-style outage, restoring the previous mode', async () => {
    proxy.delay(10);
    const over = proxy.outage(300, '503');
    expect((await request(`${proxy.url}/d`)).status).toBe(503);
    await over;
    expect(proxy.mode).toEqual({ kind: 'delay', ms: 10 });
    expect((await request(`${proxy.url}/e`)).status).toBe(200);
    proxy.pass();
  });

  it('carries SigV4-signed S3 requests to s3rver, and the SDK retries injected 503s', async () => {
    let s3: S3TestServer | undefined;
    let p: FaultyProxy | undefined;
    let client: S3Client | undefined;
    try {
      s3 = await startS3Server();
      p = await startFaultyProxy({ target: s3.endpoint });
      client = new S3Client({
        endpoint: p.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
        maxAttempts: 3,
      });
      await client.send(new CreateBucketCommand({ Bucket: 'probe' }));
      p.failEvery(2);
      const body = randomBytes(3 * 1024 * 1024);
      await client.send(new PutObjectCommand({ Bucket: 'probe', Key: 'k/one.bin', Body: body, ContentLength: body.length }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'probe', Key: 'k/one.bin' }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      expect(bytes.equals(body)).toBe(true);
      expect(p.stats().injectedErrors).toBeGreaterThanOrEqual(1);
    } finally {
      client?.destroy();
      await p?.close();
      await s3?.close();
    }
  });
});
