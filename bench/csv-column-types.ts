/**
 * The explicit DuckDB `read_csv` column types a user would write for a table, from its
 * Postgres column types. Written for the types of the bench's tables (and their common
 * relatives); anything else is refused rather than guessed. Deliberately not corrente's own
 * type mapping: the references must not depend on the code they are compared with.
 */
import pg from 'pg';

const SIMPLE: Record<string, string> = {
  bigint: 'BIGINT',
  integer: 'INTEGER',
  smallint: 'SMALLINT',
  boolean: 'BOOLEAN',
  date: 'DATE',
  real: 'FLOAT',
  'double precision': 'DOUBLE',
  text: 'VARCHAR',
  uuid: 'UUID',
  json: 'JSON',
  jsonb: 'JSON',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMPTZ',
};

/** The DuckDB type for a Postgres `format_type()` string. */
export function duckdbTypeOf(pgType: string): string {
  if (SIMPLE[pgType]) return SIMPLE[pgType];
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(pgType);
  if (numeric && Number(numeric[1]) <= 38) return `DECIMAL(${numeric[1]},${numeric[2]})`;
  if (/^(character varying|character)(\(\d+\))?$/.test(pgType)) return 'VARCHAR';
  throw new Error(`no DuckDB read_csv type for the Postgres type ${pgType} (bench/csv-column-types.ts)`);
}

/** Column name -> DuckDB type, in table order. */
export async function duckdbColumnTypes(databaseUrl: string, table: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'corrente-bench' });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [table],
    );
    return Object.fromEntries(rows.map((r) => [r.name, duckdbTypeOf(r.type)]));
  } finally {
    await client.end();
  }
}
