/**
 * Restore (rollback): an all-types table goes Postgres -> Parquet -> Postgres (a fresh
 * database, so the schema and the enum/composite/domain types are recreated from the
 * manifest) and comes back identical value for value; bad input fails with one line and
 * changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { manifestKey, type Manifest } from '../../src/lake/index.js';
import { restoreTable } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { createArrayTable } from '../helpers/array-table.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pg.js';
import { createLocalLake, publishTable, type LocalLake } from '../helpers/export-deps.js';
import { createCliSandbox, expectCleanFailure, runCli, type CliSandbox } from '../helpers/cli.js';
import { startS3Server } from '../helpers/s3-server.js';

let db: TestSchema;
let lake: LocalLake;
let manifest: Manifest;
/** A second database: the restore target, without the source's schema and types. */
let targetName: string;
let targetUrl: string;
let target: pg.Pool;

const COLUMNS = `
  id int PRIMARY KEY,
  b bool NOT NULL, i2 int2, i4 int4, i8 int8,
  f4 float4, f8 float8,
  n_small numeric(14,3), n_max numeric(38,10), n_free numeric, n_wide numeric(50,5),
  t text, vc varchar(40), ch char(5),
  j json, jb jsonb, u uuid, ba bytea,
  d date, tm time, ts timestamp, tstz timestamptz,
  ia int[], ba_arr bool[], i8a int8[], ta text[], fa float8[],
  iv interval, inet_c inet, tz_time timetz, money_c money,
  m %S.mood, p %S.pair, pr %S.price, ma %S.mood[], r int4range, x xml, bits bit(4)`;

const ROWS = [
  `(1, true, -32768, -2147483648, -9223372036854775808,
    'NaN', 'NaN',
    -99999999999.999, 9999999999999999999999999999.9999999999, 'NaN', 123456789012345678901234567890123456789012345.12345,
    '', '', 'ab',
    '{"a": [1, 2.50], "a": 2}', '{"z": 1, "a": [true, null]}', '00000000-0000-0000-0000-000000000000', '\\x00ff',
    '0044-03-15 BC', '24:00:00', '0044-03-15 12:00:00.000001 BC', '0001-01-01 00:00:00+00 BC',
    '{1,NULL,3}', '{true,NULL}', '{9223372036854775807,-9223372036854775808}', '{"a,b","c\\"d",NULL,"NULL","","ünï 😀","back\\\\slash"}', '{NaN,Infinity,-0,1.5e300}',
    '-1 year -2 mons +3 days -04:05:06.000007', '2001:db8::1/64', '23:59:59.999999+14', '-12.34',
    'happy', ROW(1, 'a "quoted", text'), 12.34, '{sad,NULL,happy}', '[1,10)', '<a x="1">t &amp; u</a>', B'1010')`,
  `(2, false, 32767, 2147483647, 9223372036854775807,
    'Infinity', '-Infinity',
    99999999999.999, -0.0000000001, 'Infinity', -0.00001,
    'line1
line2 "quoted", comma', 'ünïcødé 😀', 'x    ',
    'null', '[]', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\x',
    'infinity', '00:00:00', 'infinity', '-infinity',
    '{}', '{}', '{}', '{}', '{}',
    '0', '10.0.0.0/8', '00:00:00-15:59', '0',
    'sad', ROW(NULL, ''), 0, '{}', 'empty', '', B'0000')`,
  `(3, false, 0, 0, 0,
    '-0', '-0',
    0, 0, '-Infinity', 0,
    ' ', ' leading and trailing ', NULL,
    '"just a string"', '"tab\\t esc \\" quote \\u00e9"', NULL, '\\x5c78',
    '-infinity', '00:00:00.000001', '-infinity', 'infinity',
    NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(4, true, 1, 1, 1,
    1.17549435e-38, 4.9e-324,
    0.001, 0.0000000001, 1e-400, 1,
    'tab	here', 'NULL', '\\N',
    '{"nested": {"deep": [1e300]}}', '{"num": 1.000000000000000000001}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', repeat('\\x00', 1)::bytea,
    '2024-02-29', '12:34:56.789', '2024-03-31 02:30:00', '2024-03-31 01:00:00.123456+02',
    '{1}', '{false}', '{0}', '{""}', '{1e-320}',
    'P1Y', '::1', '12:00:00+05:30', '1000000.01',
    'ok', ROW(-5, '\\.'), 99999999.99, '{ok}', '[-5,-1]', '<x/>', B'1111')`,
  `(5, false, 2, 2, 2,
    3.4028235e38, 1.7976931348623157e308,
    12345678901.234, 1234567890123456789012345678.0123456789, 123456789012345678901234567890.123456789012345678901234567890, 0,
    repeat('long ', 1000), '\\.', 'abcde',
    '{}', '{}', '123e4567-e89b-12d3-a456-426614174000', decode(repeat('ab', 5000), 'hex'),
    '294276-12-31', '23:59:59.999999', '294246-12-31 23:59:59.999999', '2024-11-03 06:59:59.999999+00',
    '{-1,0,1}', '{true,false,true}', '{1,2,3}', '{"x"}', '{-1.5,2.25}',
    '1 day', '192.168.0.1', '00:00:00+00', '-0.01',
    NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(6, true, ${Array(36).fill('NULL').join(', ')})`,
];

const TABLE = 'alltypes';

async function rowsAsText(pool: pg.Pool, qualified: string): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query(`SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET IntervalStyle = 'iso_8601'`);
    return (await client.query<{ r: string }>(`SELECT whole_row::text AS r FROM ${qualified} whole_row ORDER BY id`)).rows.map((r) => r.r);
  } finally {
    client.release();
  }
}

async function columnsOf(pool: pg.Pool, schema: string, table: string): Promise<string[]> {
  const res = await pool.query<{ c: string }>(
    `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END AS c
     FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [`"${schema}"."${table}"`],
  );
  return res.rows.map((r) => r.c);
}

beforeAll(async () => {
  db = await createTestSchema('restore');
  const s = `"${db.schema}"`;
  await db.admin.query(`
    CREATE TYPE ${s}.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TYPE ${s}.pair AS (a int, b text);
    CREATE DOMAIN ${s}.price AS numeric(10,2) CHECK (VALUE >= 0);
    CREATE TABLE ${s}.${TABLE} (${COLUMNS.replace(/%S/g, s)})`);
  for (const r of ROWS) await db.admin.query(`INSERT INTO ${s}.${TABLE} VALUES ${r}`);
  lake = await createLocalLake(db.url, { textChecksum: 'md5' });
  ({ manifest } = await publishTable(lake, { schema: db.schema, name: TABLE }, 'rs1'));
  targetName = `corrente_restore_${randomUUID().slice(0, 8)}`;
  await db.admin.query(`CREATE DATABASE ${targetName}`);
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${targetName}`;
  targetUrl = u.toString();
  target = new pg.Pool({ connectionString: targetUrl, max: 2 });
  // DROP DATABASE ... WITH (FORCE) at the end terminates whatever is still closing.
  target.on('error', () => {});
});

afterAll(async () => {
  await target?.end();
  if (targetName) await db.admin.query(`DROP DATABASE IF EXISTS ${targetName} WITH (FORCE)`);
  await lake?.close();
  await db?.drop();
});

describe('restore', () => {
  it('records the user-defined types in the manifest, dependencies first', () => {
    expect(manifest.types?.map((t) => [t.kind, t.name])).toEqual([
      ['enum', `${db.schema}.mood`],
      ['composite', `${db.schema}.pair`],
      ['domain', `${db.schema}.price`],
    ]);
    expect(manifest.types?.[2]?.sql).toMatch(/CHECK \(\(VALUE >= \(?0/);
  });

  it('recreates the table in another database, identical value for value', async () => {
    const result = await restoreTable({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: { schema: db.schema, name: TABLE }, intoUrl: targetUrl });
    expect(result).toMatchObject({ rows: ROWS.length, verified: 'checksums', replaced: false, runId: 'rs1' });
    expect(result.createdTypes).toHaveLength(3);
    const qualified = `"${db.schema}"."${TABLE}"`;
    expect(await columnsOf(target, db.schema, TABLE)).toEqual(await columnsOf(db.admin, db.schema, TABLE));
    const pk = await target.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`, [qualified]);
    expect(pk.rows).toEqual([{ d: 'PRIMARY KEY (id)' }]);
    const source = await rowsAsText(db.admin, qualified);
    const restored = await rowsAsText(target, qualified);
    expect(restored).toHaveLength(ROWS.length);
    expect(restored).toEqual(source);
    // Same database, other schema: the two copies compare equal in SQL too (EXCEPT both ways, as text).
    await restoreTable({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: { schema: db.schema, name: TABLE }, intoUrl: db.url, as: { schema: db.schema, name: 'copy' } });
    const diff = await db.admin.query(
      `SELECT count(*)::int AS n FROM ((SELECT a_row::text FROM ${qualified} a_row EXCEPT ALL SELECT b_row::text FROM "${db.schema}".copy b_row)
       UNION ALL (SELECT b_row::text FROM "${db.schema}".copy b_row EXCEPT ALL SELECT a_row::text FROM ${qualified} a_row)) d`,
    );
    expect(diff.rows[0].n).toBe(0);
  });

  it('replaces an existing table only with --replace, after verifying', async () => {
    const qualified = `"${db.schema}"."${TABLE}"`;
    await target.query(`DELETE FROM ${qualified} WHERE id > 2`);
    await expect(
      restoreTable({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: { schema: db.schema, name: TABLE }, intoUrl: targetUrl }),
    ).rejects.toMatchObject({ code: 'TABLE_EXISTS' });
    expect((await target.query(`SELECT count(*)::int AS n FROM ${qualified}`)).rows[0].n).toBe(2);
    const result = await restoreTable({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: { schema: db.schema, name: TABLE }, intoUrl: targetUrl, replace: true });
    expect(result).toMatchObject({ replaced: true, rows: ROWS.length, createdTypes: [] });
    expect(await rowsAsText(target, qualified)).toEqual(await rowsAsText(db.admin, qualified));
    const tables = await target.query(`SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'r' ORDER BY 1`, [`"${db.schema}"`]);
    expect(tables.rows.map((r) => r.relname)).toEqual([TABLE]);
    const pk = await target.query(`SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`, [qualified]);
    expect(pk.rows).toEqual([{ conname: `${TABLE}_pkey` }]);
  });

  it('round-trips arrays (nested, typed elements, text-kept) and row types, creating nested types and array domains', async () => {
    // mood and pair exist already (beforeAll).
    await createArrayTable(db.admin, db.schema, 'arr', 'nested-only');
    const arrLake = await createLocalLake(db.url);
    try {
      const { manifest: m } = await publishTable(arrLake, { schema: db.schema, name: 'arr' }, 'ar1');
      expect(m.columns.find((c) => c.name === 'i4_2d')?.parquetType).toBe('LIST<LIST<INT32>>');
      // In column order, each type after the ones it depends on (outer_t after pair).
      expect(m.types?.map((t) => t.name)).toEqual([`${db.schema}.int_list`, `${db.schema}.mood`, `${db.schema}.pair`, `${db.schema}.outer_t`]);
      const result = await restoreTable({ store: arrLake.store, config: arrLake.deps.config }, { bucket: 'bronze', table: { schema: db.schema, name: 'arr' }, intoUrl: targetUrl });
      expect(result).toMatchObject({ rows: 6, verified: 'checksums' });
      expect(result.createdTypes).toEqual(expect.arrayContaining([`${db.schema}.outer_t`, `${db.schema}.int_list`]));
      const qualified = `"${db.schema}".arr`;
      expect(await columnsOf(target, db.schema, 'arr')).toEqual(await columnsOf(db.admin, db.schema, 'arr'));
      expect(await rowsAsText(target, qualified)).toEqual(await rowsAsText(db.admin, qualified));
    } finally {
      await arrLake.close();
    }
  });

  it('restores from S3 (files downloaded to a temp dir, then loaded)', async () => {
    const s3 = await startS3Server();
    const config = loadConfig({ env: {}, file: undefined, overrides: { storage: { kind: 's3', s3: { endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey } } } });
    const remote = createObjectStore(config.storage);
    try {
      await remote.ensureBucket('bronze');
      const table = { schema: db.schema, name: TABLE };
      for (const f of manifest.files) await remote.putFile('bronze', f.key, lake.store.localPath('bronze', f.key)!);
      await remote.putBytes('bronze', manifestKey(table, manifest.runId), await readFile(lake.store.localPath('bronze', manifestKey(table, manifest.runId))!));
      const result = await restoreTable({ store: remote, config: lake.deps.config }, { bucket: 'bronze', table, runId: manifest.runId, intoUrl: targetUrl, as: { schema: db.schema, name: 'from_s3' } });
      expect(result).toMatchObject({ rows: ROWS.length, verified: 'checksums' });
      expect(await rowsAsText(target, `"${db.schema}".from_s3`)).toEqual(await rowsAsText(db.admin, `"${db.schema}"."${TABLE}"`));
    } finally {
      await remote.close();
      await s3.close();
    }
  });

  describe('bad input (CLI: one line, exit code, nothing changed)', () => {
    let sandbox: CliSandbox;
    const restoreArgs = (...extra: string[]): string[] => ['restore', `${db.schema}.${TABLE}`, ...extra];

    beforeAll(async () => {
      sandbox = await createCliSandbox({ LAKE_DIR: lake.dir });
    });
    afterAll(async () => {
      await rm(sandbox.cwd, { recursive: true, force: true });
    });

    it('refuses an existing table without --replace (exit 2)', async () => {
      const r = await runCli(restoreArgs('--into', targetUrl), sandbox.env, { cwd: sandbox.cwd });
      expectCleanFailure(r, 2, [/already exists/, /--replace/]);
    });

    it('a wrong login in --into: exit 2, names --into, no password echoed', async () => {
      const u = new URL(targetUrl);
      u.username = 'no_such_role_x';
      u.password = 'Wr0ngPassw0rd';
      const r = await runCli(restoreArgs('--into', u.toString()), sandbox.env, { cwd: sandbox.cwd });
      const line = expectCleanFailure(r, 2, [/rejected the login/, /--into/]);
      expect(line).not.toContain('Wr0ngPassw0rd');
    });

    it('an unreachable --into: exit 3', async () => {
      const r = await runCli(restoreArgs('--into', 'postgres://postgres@127.0.0.1:1/test'), sandbox.env, { cwd: sandbox.cwd });
      expectCleanFailure(r, 3, [/Cannot reach PostgreSQL at 127\.0\.0\.1:1/]);
    });

    it('an unknown run: exit 2 with the published runs listed', async () => {
      const r = await runCli(restoreArgs('--run', 'nope', '--into', targetUrl, '--as', `${db.schema}.other`), sandbox.env, { cwd: sandbox.cwd });
      expectCleanFailure(r, 2, [/Run nope/, /Published runs: rs1/]);
    });

    it('a run whose files gc removed: exit 2, the target untouched', async () => {
      await publishTable(lake, { schema: db.schema, name: TABLE }, 'rs2');
      const part = lake.store.localPath('bronze', manifest.files[0]!.key)!;
      await rm(part);
      const r = await runCli(restoreArgs('--run', 'rs1', '--into', targetUrl, '--as', `${db.schema}.gone`), sandbox.env, { cwd: sandbox.cwd });
      expectCleanFailure(r, 2, [/missing 1 of its 1 data files/, /--run/]);
      expect((await target.query(`SELECT to_regclass($1) AS r`, [`"${db.schema}".gone`])).rows[0].r).toBeNull();
    });

    it('--json prints the result', async () => {
      const r = await runCli(restoreArgs('--into', targetUrl, '--as', `${db.schema}.viacli`, '--json'), sandbox.env, { cwd: sandbox.cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ table: `${db.schema}.viacli`, rows: ROWS.length, verified: 'checksums', replaced: false });
    });
  });
});
