/**
 * The SQL that restore and the lake views are built from: identifiers quoted, short view
 * names only when unambiguous, the swap in the right order.
 */
import { describe, expect, it } from 'vitest';
import { lakeViewStatements, viewNames, type LakeView } from '../../src/duckdb/lake-views.js';
import { pgTextExpr } from '../../src/duckdb/parquet-to-pg-csv.js';
import { decodeKeySegment, encodeKeySegment } from '../../src/lake/index.js';
import { addPrimaryKeySql, copyInSql, createTableSql, swapTablesSql } from '../../src/postgres/restore-sql.js';

describe('lake views', () => {
  const views: LakeView[] = [
    { layer: 'bronze', table: { schema: 'core', name: 'items' }, files: ['/lake/bronze/core/items/run-1/part-00000.parquet'] },
    { layer: 'bronze', table: { schema: 'other', name: 'items' }, files: ["/lake/it's/part.parquet"] },
    { layer: 'gold', table: { schema: 'gold', name: 'demand' }, files: [], columns: [{ name: 'd', type: { kind: 'date' } }] },
  ];

  it('names every table <schema>.<table>, and <table> alone only when unique in its layer', () => {
    const names = viewNames(views);
    expect(names.get(views[0]!)).toEqual(['core.items']);
    expect(names.get(views[1]!)).toEqual(['other.items']);
    expect(names.get(views[2]!)).toEqual(['gold.demand', 'demand']);
  });

  it('quotes paths and names, and gives a table without files a typed empty view', () => {
    const sql = lakeViewStatements(views);
    expect(sql[0]).toBe('CREATE SCHEMA IF NOT EXISTS "bronze"');
    expect(sql).toContain(`CREATE OR REPLACE VIEW "bronze"."other.items" AS SELECT * FROM read_parquet(['/lake/it''s/part.parquet'], hive_partitioning = false)`);
    expect(sql).toContain('CREATE OR REPLACE VIEW "gold"."demand" AS SELECT CAST(NULL AS DATE) AS "d" WHERE false');
  });

  it('decodes key segments back to the names they encode', () => {
    for (const name of ['a/b', '50%', '..', 'back\\slash', 'plain name', '%2F']) expect(decodeKeySegment(encodeKeySegment(name))).toBe(name);
  });
});

describe('restore SQL', () => {
  const ref = { schema: 'My "S"', name: 't' };

  it('creates the table with recorded types and NOT NULL, the key added afterwards', () => {
    expect(createTableSql(ref, [{ name: 'id', pgType: 'integer', nullable: false }, { name: 'm', pgType: '"My ""S""".mood[]', nullable: true }])).toBe(
      'CREATE TABLE "My ""S"""."t" ("id" integer NOT NULL, "m" "My ""S""".mood[])',
    );
    expect(addPrimaryKeySql(ref, ['id', 'k'])).toBe('ALTER TABLE "My ""S"""."t" ADD PRIMARY KEY ("id", "k")');
    expect(copyInSql(ref, ['id'])).toBe('COPY "My ""S"""."t" ("id") FROM STDIN WITH (FORMAT csv, FREEZE)');
  });

  it('swaps: drop the old table, rename the new one and its key', () => {
    expect(swapTablesSql({ schema: 's', name: 'corrente_restore_ab' }, { schema: 's', name: 't' }, 'corrente_restore_ab_pkey')).toEqual([
      'DROP TABLE "s"."t"',
      'ALTER TABLE "s"."corrente_restore_ab" RENAME TO "t"',
      'ALTER TABLE "s"."t" RENAME CONSTRAINT "corrente_restore_ab_pkey" TO "t_pkey"',
    ]);
  });

  it('writes BC dates the way Postgres reads them and lists as quoted array literals', () => {
    expect(pgTextExpr({ name: 'd', pgType: 'date', nullable: true, type: { kind: 'date' } })).toBe(`replace("d"::VARCHAR, ' (BC)', ' BC')`);
    expect(pgTextExpr({ name: 'b', pgType: 'bytea', nullable: true, type: { kind: 'bytes' } })).toBe(`('\\x' || lower(hex("b")))`);
    const list = pgTextExpr({ name: 'a', pgType: 'integer[]', nullable: true, type: { kind: 'list', element: { kind: 'int32' } } });
    expect(list).toContain(`array_to_string(list_transform("a", lambda e:`);
    expect(list).toContain(`THEN 'NULL'`);
  });
});
