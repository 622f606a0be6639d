import { describe, expect, it } from 'vitest';
import { buildCsvToParquetSql } from '../../src/duckdb/csv-to-parquet.js';
import { buildParquetFingerprintSql } from '../../src/duckdb/parquet-fingerprint.js';
import { buildCopySql, qualifiedName } from '../../src/postgres/copy-sql.js';
import { buildFingerprintSql } from '../../src/postgres/fingerprint-sql.js';
import type { ColumnSpec, LogicalType, TableSchema } from '../../src/shared/table-schema.js';

/**
 * Splits SQL into quoted identifiers, string literals and the bare text between them.
 * Throws on an unterminated quote: a correctly quoted statement always tokenises.
 */
function tokenize(sql: string): { idents: string[]; literals: string[]; bare: string } {
  const idents: string[] = [];
  const literals: string[] = [];
  let bare = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '"' || ch === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new Error(`unterminated ${ch} in: ${sql}`);
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) {
            value += ch;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      (ch === '"' ? idents : literals).push(value);
      bare += ch === '"' ? ' <ident> ' : ' <literal> ';
    } else {
      bare += ch;
      i++;
    }
  }
  return { idents, literals, bare };
}

const TABLE_SCHEMA = 'sch"ema; DROP TABLE x; --';
const TABLE_NAME = "we\"ird 'tab' ; DROP TABLE x";
const NAMES = ['we"ird', "it's", 'with space', 'x"; DROP TABLE x; --', "y'); DROP TABLE x; --", '""', 'Upper Case'];
const TYPES: LogicalType[] = [
  { kind: 'int32' },
  { kind: 'text' },
  { kind: 'float32' },
  { kind: 'list', element: { kind: 'int64' } },
  { kind: 'bytes' },
  { kind: 'timestamptz' },
  { kind: 'decimal', precision: 14, scale: 3 },
  { kind: 'date' },
  { kind: 'bool' },
  { kind: 'json' },
  { kind: 'decimal', precision: 38, scale: 2 },
  { kind: 'float64' },
];

/** Every name with every type, so each metric/conversion path sees every tricky name. */
const columns: ColumnSpec[] = [];
for (const [k, type] of TYPES.entries()) {
  for (const name of NAMES) columns.push({ name: `${name}${k}`, pgType: type.kind === 'text' ? 'character(5)' : type.kind, nullable: true, type });
}
const schema: TableSchema = { table: { schema: TABLE_SCHEMA, name: TABLE_NAME }, columns, primaryKey: [], estimatedRows: -1 };

const CSV_PATH = "/tmp/it's; DROP TABLE x/chunk-00000.csv";
const PARQUET_PATH = "/tmp/o'hara\"x/part-00000.parquet";

const statements: [string, string][] = [
  ['buildCopySql', buildCopySql(schema)],
  ['buildFingerprintSql', buildFingerprintSql(schema)],
  ['buildCsvToParquetSql', buildCsvToParquetSql(schema, CSV_PATH, { file: PARQUET_PATH }, { compression: 'zstd', rowGroupRows: 1000, maxLineBytes: 10 })],
  ['buildParquetFingerprintSql', buildParquetFingerprintSql(schema, [PARQUET_PATH, "/tmp/a''b.parquet"])],
];

describe('SQL builders quote every name', () => {
  it('qualifiedName doubles quotes in both parts', () => {
    expect(qualifiedName(schema)).toBe('"sch""ema; DROP TABLE x; --"."we""ird \'tab\' ; DROP TABLE x"');
  });

  it.each(statements)('%s tokenises cleanly with nothing dangerous left bare', (_label, sql) => {
    const { bare } = tokenize(sql);
    expect(bare).not.toMatch(/DROP/i);
    expect(bare).not.toContain(';');
    expect(bare).not.toContain('--');
    expect(bare).not.toContain('"');
    expect(bare).not.toContain("'");
  });

  it.each(statements)('%s contains the exact doubled-quote identifier, never the broken one', (_label, sql) => {
    expect(sql).toContain('"we""ird0"');
    expect(sql).not.toContain('"we"ird0"');
    expect(sql).toContain('"x""; DROP TABLE x; --0"');
    expect(sql).toContain(`"it's0"`);
    expect(sql).toContain('"with space0"');
    expect(sql).toContain('"""""0"'); // name `""0` quoted
  });

  it('Postgres statements name the table and every column as identifiers', () => {
    for (const sql of [buildCopySql(schema), buildFingerprintSql(schema)]) {
      const { idents, literals } = tokenize(sql);
      expect(idents).toContain(TABLE_SCHEMA);
      expect(idents).toContain(TABLE_NAME);
      for (const c of columns) expect(idents).toContain(c.name);
      // No name ever leaks into a string literal.
      for (const lit of literals) for (const c of columns) expect(lit).not.toContain(c.name);
    }
  });

  it('buildCopySql selects each column once, in order, from the quoted table', () => {
    const simple: TableSchema = {
      table: { schema: 'a"b', name: "c'd" },
      columns: [
        { name: 'x"y', pgType: 'integer', nullable: false, type: { kind: 'int32' } },
        { name: 'z z', pgType: 'text', nullable: true, type: { kind: 'text' } },
      ],
      primaryKey: [],
      estimatedRows: -1,
    };
    expect(buildCopySql(simple)).toBe(`COPY (SELECT "x""y", "z z" FROM "a""b"."c'd") TO STDOUT WITH (FORMAT csv)`);
  });

  it('buildCopySql reads a whole ordinary table without a query, and only then', () => {
    const columns: TableSchema['columns'] = [
      { name: 'x"y', pgType: 'integer', nullable: false, type: { kind: 'int32' } },
      { name: 'z z', pgType: 'text', nullable: true, type: { kind: 'text' } },
    ];
    const table: TableSchema = { table: { schema: 'a"b', name: "c'd" }, columns, primaryKey: [], estimatedRows: -1, plainTable: true };
    expect(buildCopySql(table)).toBe(`COPY "a""b"."c'd" ("x""y", "z z") TO STDOUT WITH (FORMAT csv)`);
    // A range of it, a view (or partitioned parent), or a column that is converted on the way out: a query.
    expect(buildCopySql(table, { sql: '"x""y" >= 10' })).toBe(`COPY (SELECT "x""y", "z z" FROM "a""b"."c'd" WHERE "x""y" >= 10) TO STDOUT WITH (FORMAT csv)`);
    expect(buildCopySql({ ...table, plainTable: false })).toMatch(/^COPY \(SELECT /);
    const withArray: TableSchema = { ...table, columns: [...columns, { name: 'tags', pgType: 'text[]', nullable: true, type: { kind: 'list', element: { kind: 'text' } } }] };
    expect(buildCopySql(withArray)).toBe(`COPY (SELECT "x""y", "z z", array_to_json("tags"::text[])::text FROM "a""b"."c'd") TO STDOUT WITH (FORMAT csv)`);
  });

  it('buildCsvToParquetSql puts paths in string literals and column names only in AS identifiers', () => {
    const sql = buildCsvToParquetSql(schema, CSV_PATH, { file: PARQUET_PATH }, { compression: 'snappy', rowGroupRows: 5, maxLineBytes: 10 });
    const { idents, literals } = tokenize(sql);
    expect(literals).toContain(CSV_PATH);
    expect(literals).toContain(PARQUET_PATH);
    expect(sql).toContain(`'/tmp/it''s; DROP TABLE x/chunk-00000.csv'`);
    expect(sql).toContain(`'/tmp/o''hara"x/part-00000.parquet'`);
    expect(idents.sort()).toEqual(columns.map((c) => c.name).sort());
    // The table name never appears (DuckDB reads the CSV file, not the table).
    expect(sql).not.toContain('DROP TABLE x"');
    expect(sql).toContain('COMPRESSION snappy');
    expect(sql).toContain('ROW_GROUP_SIZE 5');
  });

  it('buildParquetFingerprintSql lists files as quoted literals', () => {
    const sql = buildParquetFingerprintSql(schema, [PARQUET_PATH, "/tmp/a''b.parquet"]);
    expect(sql).toContain(`read_parquet(['/tmp/o''hara"x/part-00000.parquet', '/tmp/a''''b.parquet'], hive_partitioning = false)`);
    const { literals, idents } = tokenize(sql);
    expect(literals).toContain("/tmp/a''b.parquet");
    for (const c of columns) expect(idents).toContain(c.name);
    expect(idents).toContain('rows');
  });
});
