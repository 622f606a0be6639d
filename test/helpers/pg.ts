import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** The database tests use; CI machines have `test` with trust auth. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** Unique schema name for this test file. */
  schema: string;
  /** Admin pool (superuser) for setting up data. */
  admin: pg.Pool;
  url: string;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** Creates a unique schema so test files can run in parallel on one database. */
export async function createTestSchema(prefix = 't'): Promise<TestSchema> {
  const schema = `${prefix}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  return {
    schema,
    admin,
    url: TEST_DATABASE_URL,
    drop: async () => {
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
