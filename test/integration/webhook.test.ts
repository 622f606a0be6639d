/**
 * Alert webhooks against a local HTTP receiver: retries on 5xx, a timeout per attempt, no
 * retry on 4xx, and the URL's secret path and query never in the logs.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../src/pipeline/index.js';
import type { Logger } from '../../src/shared/logger.js';
import { redactWebhookUrl } from '../../src/shared/redact.js';

let server: Server;
let base: string;
const plan: Array<'503' | '400' | 'hang' | 'ok'> = [];
const bodies: unknown[] = [];

function memoryLogger(lines: string[]): Logger {
  const log = (obj: object | string, msg?: string) => void lines.push(JSON.stringify({ obj, msg }));
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const step = plan.shift() ?? 'ok';
      if (step === 'hang') return; // never answers
      if (step === 'ok') bodies.push(JSON.parse(text));
      res.writeHead(step === 'ok' ? 200 : Number(step)).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('alert webhook', () => {
  it('retries a 503 and a hung attempt (timeout), then delivers; the secret never reaches the logs', async () => {
    plan.push('503', 'hang', 'ok');
    const lines: string[] = [];
    const url = `${base}/services/T0/B0/s3cr3tXYZ?token=abc123`;
    const result = await postWebhook(url, { state: 'failed' }, { timeoutMs: 300, retries: 3, backoffMs: 10, logger: memoryLogger(lines) });
    expect(result).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(bodies.at(-1)).toEqual({ state: 'failed' });
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toContain(`${base}/***`);
    expect(lines.join('\n')).not.toMatch(/s3cr3t|abc123/);
  });

  it('gives up after its retries, and does not retry a 4xx', async () => {
    plan.push('503', '503');
    const lines: string[] = [];
    expect(await postWebhook(`${base}/x?key=k3y`, {}, { retries: 1, backoffMs: 1, logger: memoryLogger(lines) })).toEqual({ ok: false, attempts: 2, status: 503, error: `${base}/*** answered HTTP 503` });
    plan.push('400');
    expect(await postWebhook(`${base}/x`, {}, { retries: 3, backoffMs: 1 })).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(lines.join('\n')).not.toContain('k3y');
  });

  it('redacts user info, paths and queries of webhook URLs', () => {
    expect(redactWebhookUrl('https://user:pw@hooks.example.com/services/T0/B0/XYZ')).toBe('https://hooks.example.com/***');
    expect(redactWebhookUrl('https://example.com/')).toBe('https://example.com/');
    expect(redactWebhookUrl('not a url')).toBe('***');
  });
});
