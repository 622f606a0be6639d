import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'corrente-envfile-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const EMPTY_YAML = join(dir, 'empty.yaml');
writeFileSync(EMPTY_YAML, '');

function envFile(text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}.env`);
  writeFileSync(path, text);
  return path;
}

describe('.env file', () => {
  it('supplies variables the environment does not set; the environment wins', () => {
    const file = envFile('# comment\nREDIS_URL=redis://from-file:6379\nexport WORKER_CONCURRENCY=4\nLAKE_DIR="/lake from file"\n');
    const config = loadConfig({ env: { REDIS_URL: 'redis://from-env:6379' }, envFile: file, file: EMPTY_YAML });
    expect(config.redis.url).toBe('redis://from-env:6379');
    expect(config.worker.concurrency).toBe(4);
    expect(config.storage.lakeDir).toBe('/lake from file');
  });

  it('CORRENTE_CONFIG may come from the file', () => {
    const yaml = join(dir, 'from-env-file.yaml');
    writeFileSync(yaml, 'export:\n  keepRuns: 7\n');
    const config = loadConfig({ env: {}, envFile: envFile(`CORRENTE_CONFIG=${yaml}\n`) });
    expect(config.export.keepRuns).toBe(7);
  });

  it('a missing file is no error; a bad value in it is named like an environment variable', () => {
    expect(loadConfig({ env: {}, envFile: join(dir, 'absent.env'), file: EMPTY_YAML }).worker.concurrency).toBe(1);
    expect(() => loadConfig({ env: {}, envFile: envFile('WORKER_CONCURRENCY=two\n'), file: EMPTY_YAML })).toThrow(/WORKER_CONCURRENCY="two" is not a whole number/);
  });

  it('an explicit env reads no .env unless asked', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      writeFileSync(join(dir, '.env'), 'REDIS_URL=redis://from-dot-env:6379\n');
      expect(loadConfig({ env: {}, file: EMPTY_YAML }).redis.url).toBe('redis://127.0.0.1:6379');
      expect(loadConfig({ env: {}, envFile: '.env', file: EMPTY_YAML }).redis.url).toBe('redis://from-dot-env:6379');
    } finally {
      process.chdir(cwd);
    }
  });
});
