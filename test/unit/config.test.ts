import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { configuredTables, resolveTables, splitTableList } from '../../src/config/tables.js';
import type { Config } from '../../src/config/schema.js';
import { CorrenteError } from '../../src/shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'corrente-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Writes YAML to a fresh temp file and returns its path. */
function yamlFile(text: string): string {
  const path = join(dir, `c${fileNo++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** An empty config file, so the tests never pick up a ./corrente.yaml. */
const EMPTY = yamlFile('');

function configError(fn: () => unknown): CorrenteError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CorrenteError);
    expect((err as CorrenteError).code).toBe('CONFIG_INVALID');
    return err as CorrenteError;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('loadConfig defaults', () => {
  const config = loadConfig({ env: {}, file: EMPTY });

  it('applies every default', () => {
    expect(config.postgres).toEqual({ url: 'postgres://postgres@127.0.0.1:5432/postgres', maxConcurrentExports: 2, connectTimeoutMs: 10_000 });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'corrente' });
    expect(config.storage.kind).toBe('local');
    expect(config.storage.lakeDir).toBe('./lake');
    expect(config.storage.s3.endpoint).toBeUndefined();
    expect(config.storage.s3.region).toBe('us-east-1');
    expect(config.storage.s3.forcePathStyle).toBe(true);
    expect(config.storage.s3.createBuckets).toBe(true);
    expect(config.storage.buckets).toEqual({ bronze: 'bronze', silver: 'silver', gold: 'gold' });
    expect(config.export).toEqual({
      chunkMb: 1024,
      compression: 'zstd',
      compressionLevel: 3,
      parquetVersion: 'v2',
      rowGroupRows: 61_440,
      textChecksum: 'auto',
      checksumWorkers: 0,
      // The file-size default is being tuned; pin only its shape here.
      fileTargetMb: expect.any(Number),
      duckdbMemoryMb: 128,
      duckdbThreads: 1,
      verifyThreads: 2,
      maxRowMb: 256,
      verify: true,
      keepRuns: 3,
    });
    expect(Number.isInteger(config.export.fileTargetMb) && config.export.fileTargetMb > 0).toBe(true);
    expect(config.worker).toEqual({ concurrency: 1, attempts: 3, backoffMs: 2_000, jobTimeoutMinutes: 240, shutdownGraceSeconds: 30, lockSeconds: 60 });
    // The sample facts are incremental by default, so the shipped nightly-refresh is.
    expect(config.tables).toEqual([
      'core.dim_item',
      { name: 'core.fact_demand_daily', layer: 'bronze', columns: {}, incremental: { column: 'updated_at', overlap: { ms: 600_000 }, deletes: 'keydiff' } },
      { name: 'analytics.fact_forecasts', layer: 'bronze', columns: {}, incremental: { mode: 'xmin' } },
    ]);
    // log.level has no schema default (the CLI picks info/warn per command).
    expect(config.log.level).toBeUndefined();
  });

  it('is deeply frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.storage)).toBe(true);
    expect(Object.isFrozen(config.storage.s3)).toBe(true);
    expect(Object.isFrozen(config.tables)).toBe(true);
    expect(() => {
      (config.postgres as { url: string }).url = 'x';
    }).toThrow(TypeError);
    expect(config.postgres.url).toBe('postgres://postgres@127.0.0.1:5432/postgres');
  });

  it('treats a YAML file holding only a comment as empty', () => {
    const c = loadConfig({ env: {}, file: yamlFile('# nothing here\n') });
    expect(c.export.compression).toBe('zstd');
  });
});

describe('loadConfig environment mapping', () => {
  it('maps DATABASE_URL, REDIS_URL, LAKE_DIR, WORKER_CONCURRENCY, LOG_LEVEL and friends', () => {
    const c = loadConfig({
      file: EMPTY,
      env: {
        DATABASE_URL: 'postgres://u:p@db:5433/app',
        REDIS_URL: 'redis://r:6380',
        LAKE_DIR: '/data/lake',
        WORKER_CONCURRENCY: '4',
        PG_MAX_CONCURRENT_EXPORTS: ' 5 ',
        CORRENTE_REDIS_PREFIX: 'pfx',
        LOG_LEVEL: 'debug',
      },
    });
    expect(c.postgres.url).toBe('postgres://u:p@db:5433/app');
    expect(c.redis.url).toBe('redis://r:6380');
    expect(c.redis.prefix).toBe('pfx');
    expect(c.storage.lakeDir).toBe('/data/lake');
    expect(c.storage.kind).toBe('local');
    expect(c.worker.concurrency).toBe(4);
    expect(c.postgres.maxConcurrentExports).toBe(5);
    expect(c.log.level).toBe('debug');
  });

  it('ignores empty env values', () => {
    const c = loadConfig({ file: EMPTY, env: { DATABASE_URL: '', MINIO_ENDPOINT: '' } });
    expect(c.postgres.url).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(c.storage.kind).toBe('local');
  });

  it('MINIO_ENDPOINT switches storage to s3', () => {
    const c = loadConfig({
      file: EMPTY,
      env: { MINIO_ENDPOINT: 'http://127.0.0.1:9000', MINIO_ACCESS_KEY: 'minio', MINIO_SECRET_KEY: 'minio-secret', MINIO_REGION: 'eu-west-1' },
    });
    expect(c.storage.kind).toBe('s3');
    expect(c.storage.s3.endpoint).toBe('http://127.0.0.1:9000');
    expect(c.storage.s3.accessKey).toBe('minio');
    expect(c.storage.s3.secretKey).toBe('minio-secret');
    expect(c.storage.s3.region).toBe('eu-west-1');
  });

  it('adds http:// to a scheme-less endpoint, https:// when MINIO_USE_SSL is true', () => {
    expect(loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'minio:9000' } }).storage.s3.endpoint).toBe('http://minio:9000');
    expect(loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'minio:9000', MINIO_USE_SSL: 'false' } }).storage.s3.endpoint).toBe('http://minio:9000');
    expect(loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'minio:9000', MINIO_USE_SSL: 'true' } }).storage.s3.endpoint).toBe('https://minio:9000');
    expect(loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'minio:9000', MINIO_USE_SSL: 'YES' } }).storage.s3.endpoint).toBe('https://minio:9000');
    // An explicit scheme is kept as written.
    expect(loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'http://minio:9000', MINIO_USE_SSL: 'true' } }).storage.s3.endpoint).toBe('http://minio:9000');
  });

  it('rejects a non-boolean MINIO_USE_SSL naming the variable', () => {
    const err = configError(() => loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'minio:9000', MINIO_USE_SSL: 'maybe' } }));
    expect(err.message).toContain('MINIO_USE_SSL');
  });

  it('precedence: MINIO_* over S3_* over AWS_*', () => {
    const all = {
      AWS_ENDPOINT_URL: 'http://aws:1',
      S3_ENDPOINT: 'http://s3:2',
      MINIO_ENDPOINT: 'http://minio:3',
      AWS_ACCESS_KEY_ID: 'aws-ak',
      S3_ACCESS_KEY_ID: 's3-ak',
      MINIO_ACCESS_KEY: 'minio-ak',
      AWS_SECRET_ACCESS_KEY: 'aws-sk',
      S3_SECRET_ACCESS_KEY: 's3-sk',
      MINIO_SECRET_KEY: 'minio-sk',
      AWS_REGION: 'aws-r',
      S3_REGION: 's3-r',
      MINIO_REGION: 'minio-r',
    };
    const c1 = loadConfig({ file: EMPTY, env: all });
    expect([c1.storage.s3.endpoint, c1.storage.s3.accessKey, c1.storage.s3.secretKey, c1.storage.s3.region]).toEqual([
      'http://minio:3',
      'minio-ak',
      'minio-sk',
      'minio-r',
    ]);

    const noMinio = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('MINIO_')));
    const c2 = loadConfig({ file: EMPTY, env: noMinio });
    expect([c2.storage.s3.endpoint, c2.storage.s3.accessKey, c2.storage.s3.secretKey, c2.storage.s3.region]).toEqual([
      'http://s3:2',
      's3-ak',
      's3-sk',
      's3-r',
    ]);

    const awsOnly = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('AWS_')));
    const c3 = loadConfig({ file: EMPTY, env: awsOnly });
    expect([c3.storage.kind, c3.storage.s3.endpoint, c3.storage.s3.accessKey, c3.storage.s3.secretKey, c3.storage.s3.region]).toEqual([
      's3',
      'http://aws:1',
      'aws-ak',
      'aws-sk',
      'aws-r',
    ]);
  });

  it('keeps the secret key out of JSON and enumeration but readable', () => {
    const c = loadConfig({ file: EMPTY, env: { MINIO_ENDPOINT: 'http://m:9000', MINIO_ACCESS_KEY: 'ak', MINIO_SECRET_KEY: 'sup3r-s3cret-value' } });
    expect(c.storage.s3.secretKey).toBe('sup3r-s3cret-value');
    expect(JSON.stringify(c)).not.toContain('sup3r-s3cret-value');
    expect(JSON.stringify(c)).toContain('"accessKey":"ak"');
    expect(Object.keys(c.storage.s3)).not.toContain('secretKey');
    expect(() => {
      (c.storage.s3 as { secretKey?: string }).secretKey = 'other';
    }).toThrow(TypeError);
  });

  it('rejects a non-numeric WORKER_CONCURRENCY naming the variable', () => {
    const err = configError(() => loadConfig({ file: EMPTY, env: { WORKER_CONCURRENCY: 'abc' } }));
    expect(err.message).toContain('WORKER_CONCURRENCY');
    expect(err.message).toContain('abc');
    expect(err.context.option).toBe('WORKER_CONCURRENCY');
  });

  it.each([['-1'], ['1.5'], ['2x'], ['']])('rejects or ignores PG_MAX_CONCURRENT_EXPORTS=%j', (v) => {
    if (v === '') {
      expect(loadConfig({ file: EMPTY, env: { PG_MAX_CONCURRENT_EXPORTS: v } }).postgres.maxConcurrentExports).toBe(2);
      return;
    }
    expect(configError(() => loadConfig({ file: EMPTY, env: { PG_MAX_CONCURRENT_EXPORTS: v } })).message).toContain('PG_MAX_CONCURRENT_EXPORTS');
  });

  it('rejects WORKER_CONCURRENCY=0 (not positive) naming the config path', () => {
    const err = configError(() => loadConfig({ file: EMPTY, env: { WORKER_CONCURRENCY: '0' } }));
    expect(err.message).toContain('worker.concurrency');
  });

  it('rejects an invalid LOG_LEVEL naming log.level', () => {
    expect(configError(() => loadConfig({ file: EMPTY, env: { LOG_LEVEL: 'loud' } })).message).toContain('log.level');
  });

  it('uses CORRENTE_CONFIG when no file option is given', () => {
    const path = yamlFile('redis:\n  prefix: from-env-file\n');
    expect(loadConfig({ env: { CORRENTE_CONFIG: path } }).redis.prefix).toBe('from-env-file');
  });

  it('fails when an explicitly named file does not exist', () => {
    const err = configError(() => loadConfig({ env: {}, file: join(dir, 'does-not-exist.yaml') }));
    expect(err.message).toContain('does-not-exist.yaml');
  });
});

describe('loadConfig YAML file', () => {
  const FILE = `
postgres:
  url: postgres://file@filehost/db
  maxConcurrentExports: 7
storage:
  lakeDir: /from/file
  buckets:
    silver: my-silver
export:
  compression: snappy
  rowGroupRows: 1000
  verify: false
worker:
  concurrency: 3
tables:
  - core.a
  - name: core."b.c"
    layer: gold
    columns:
      Weird Col: { as: text }
`;

  it('merges file values over defaults', () => {
    const c = loadConfig({ env: {}, file: yamlFile(FILE) });
    expect(c.postgres.url).toBe('postgres://file@filehost/db');
    expect(c.postgres.maxConcurrentExports).toBe(7);
    expect(c.postgres.connectTimeoutMs).toBe(10_000);
    expect(c.storage.lakeDir).toBe('/from/file');
    expect(c.storage.buckets).toEqual({ bronze: 'bronze', silver: 'my-silver', gold: 'gold' });
    expect(c.export.compression).toBe('snappy');
    expect(c.export.rowGroupRows).toBe(1000);
    expect(c.export.verify).toBe(false);
    expect(c.export.fileTargetMb).toBe(loadConfig({ env: {}, file: EMPTY }).export.fileTargetMb);
    expect(c.worker.concurrency).toBe(3);
    expect(c.tables).toEqual(['core.a', { name: 'core."b.c"', layer: 'gold', columns: { 'Weird Col': { as: 'text' } } }]);
  });

  it('lets env override file values, keeping the file values env does not set', () => {
    const c = loadConfig({ env: { DATABASE_URL: 'postgres://env@envhost/db', WORKER_CONCURRENCY: '9' }, file: yamlFile(FILE) });
    expect(c.postgres.url).toBe('postgres://env@envhost/db');
    expect(c.postgres.maxConcurrentExports).toBe(7);
    expect(c.worker.concurrency).toBe(9);
    expect(c.storage.lakeDir).toBe('/from/file');
  });

  it('lets overrides beat env and file', () => {
    const c = loadConfig({ env: { WORKER_CONCURRENCY: '9' }, file: yamlFile(FILE), overrides: { worker: { concurrency: 11 } } });
    expect(c.worker.concurrency).toBe(11);
    expect(c.worker.attempts).toBe(3);
  });

  it('env endpoint switches kind to s3 even when the file says local', () => {
    const c = loadConfig({ env: { MINIO_ENDPOINT: 'm:9000' }, file: yamlFile('storage:\n  kind: local\n  s3:\n    accessKey: file-ak\n') });
    expect(c.storage.kind).toBe('s3');
    expect(c.storage.s3.endpoint).toBe('http://m:9000');
    expect(c.storage.s3.accessKey).toBe('file-ak');
  });

  it('rejects kind s3 without an endpoint', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('storage:\n  kind: s3\n') }));
    expect(err.message).toMatch(/endpoint/);
  });

  it('rejects an unknown top-level key, naming it', () => {
    const path = yamlFile('storag:\n  kind: local\n');
    const err = configError(() => loadConfig({ env: {}, file: path }));
    expect(err.message).toContain('storag');
    expect(err.message).toContain(path);
    expect(err.context.option).toBe('storag');
  });

  it('rejects an unknown nested key, naming its full path', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('export:\n  fileTargetMB: 1\n') }));
    expect(err.message).toContain('export.fileTargetMB');
  });

  it('rejects an unknown key in a table entry', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('tables:\n  - name: core.a\n    layr: gold\n') }));
    expect(err.message).toContain('layr');
  });

  it('rejects an invalid enum value, naming the path', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('export:\n  compression: lz4\n') }));
    expect(err.message).toContain('export.compression');
    expect(err.context.option).toBe('export.compression');
  });

  it('rejects a wrongly typed value, naming the path', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('worker:\n  concurrency: many\n') }));
    expect(err.message).toContain('worker.concurrency');
  });

  it('rejects malformed YAML mentioning the line', () => {
    const path = yamlFile('postgres:\n  url: ok\nexport: [unclosed\n  compression: zstd\n');
    const err = configError(() => loadConfig({ env: {}, file: path }));
    expect(err.message).toMatch(/not valid YAML/);
    expect(err.message).toMatch(/line \d+/);
    expect(err.message).toContain(path);
  });

  it('reports the right line for a bad indentation error', () => {
    const err = configError(() => loadConfig({ env: {}, file: yamlFile('postgres:\n  url: a\n bad: x\n') }));
    expect(err.message).toMatch(/at line 3, column 1/);
  });

  it('rejects a YAML file that is not a mapping', () => {
    expect(configError(() => loadConfig({ env: {}, file: yamlFile('- a\n- b\n') })).message).toMatch(/mapping/);
    expect(configError(() => loadConfig({ env: {}, file: yamlFile('just a string\n') })).message).toMatch(/mapping/);
  });
});

describe('splitTableList', () => {
  it('splits on commas, trimming and dropping empties', () => {
    expect(splitTableList('core.a, core.b,,  analytics.c ,')).toEqual(['core.a', 'core.b', 'analytics.c']);
    expect(splitTableList('')).toEqual([]);
    expect(splitTableList(' , ')).toEqual([]);
  });

  it('keeps commas inside double quotes', () => {
    expect(splitTableList('core."a,b",x.y')).toEqual(['core."a,b"', 'x.y']);
    expect(splitTableList('"s,1"."t,2"')).toEqual(['"s,1"."t,2"']);
    expect(splitTableList('s."a""b,c",t.u')).toEqual(['s."a""b,c"', 't.u']);
  });
});

describe('resolveTables', () => {
  const config: Pick<Config, 'tables'> = {
    tables: [
      'core.dim_item',
      { name: 'core."Fact.Demand"', layer: 'silver', columns: { amount: { as: 'text' } } },
      { name: 'analytics.forecasts', layer: 'gold', columns: {} },
    ],
  };

  it('returns all configured tables when no names are given', () => {
    const all = resolveTables(config);
    expect(all).toEqual([
      { table: { schema: 'core', name: 'dim_item' }, layer: 'bronze', columns: {} },
      { table: { schema: 'core', name: 'Fact.Demand' }, layer: 'silver', columns: { amount: { as: 'text' } } },
      { table: { schema: 'analytics', name: 'forecasts' }, layer: 'gold', columns: {} },
    ]);
    expect(resolveTables(config, [])).toEqual(all);
    expect(configuredTables(config)).toEqual(all);
  });

  it('picks up per-table options for named tables, in the order named', () => {
    const out = resolveTables(config, ['analytics.forecasts', '"core"."Fact.Demand"', 'other.t']);
    expect(out).toEqual([
      { table: { schema: 'analytics', name: 'forecasts' }, layer: 'gold', columns: {} },
      { table: { schema: 'core', name: 'Fact.Demand' }, layer: 'silver', columns: { amount: { as: 'text' } } },
      { table: { schema: 'other', name: 't' }, layer: 'bronze', columns: {} },
    ]);
  });

  it('dedups names that spell the same table differently', () => {
    const out = resolveTables(config, splitTableList('core.dim_item, "core"."dim_item", core."dim_item", core.x, core.x'));
    expect(out.map((t) => t.table)).toEqual([
      { schema: 'core', name: 'dim_item' },
      { schema: 'core', name: 'x' },
    ]);
  });

  it('does not confuse case: Core.Dim_Item is another table', () => {
    const out = resolveTables(config, ['Core.Dim_Item', 'core.dim_item']);
    expect(out.map((t) => t.table)).toEqual([
      { schema: 'Core', name: 'Dim_Item' },
      { schema: 'core', name: 'dim_item' },
    ]);
  });

  it('handles quoted commas end to end', () => {
    const out = resolveTables({ tables: [] }, splitTableList('s."a,b", s.c'));
    expect(out.map((t) => t.table)).toEqual([
      { schema: 's', name: 'a,b' },
      { schema: 's', name: 'c' },
    ]);
  });

  it('throws CONFIG_INVALID when nothing is configured or named', () => {
    expect(configError(() => resolveTables({ tables: [] })).message).toMatch(/No tables/);
  });

  it('throws CONFIG_INVALID for a bad name', () => {
    configError(() => resolveTables(config, ['x; DROP TABLE y']));
    configError(() => resolveTables({ tables: ['nodot'] }));
  });
});
