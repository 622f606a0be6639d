/**
 * The second table of the end-to-end measurement: wide and text-heavy, unlike the narrow
 * numeric fact table. 27 columns: 17 text columns of varied length (a title of 1-40 words,
 * descriptions of 2-80 words with one row in 50 a paragraph of 1-9 KB, addresses, emails,
 * user agents), NULLs in 18 columns (5-70% of rows), and numeric, double, integer, boolean,
 * timestamp, timestamptz, uuid and jsonb columns. Text is made of common and invented words
 * (a vocabulary of thousands), so it compresses roughly like prose, not like random bytes
 * nor like a repeated string.
 *
 * Seeded once per row count (the table comment records it, as `seedSample` does), then
 * vacuumed so the first COPY does not set hint bits.
 */
import pg from 'pg';
import type { DatasetTable } from './dataset.js';
import { WIDE_TABLE } from './paths.js';
import { log } from './types.js';

/** Bump when the generator changes, so tables seeded by an older one are rebuilt. */
const GENERATOR = 'corrente-bench-wide v1';
const BATCH = 500_000;

const WORDS = `ARRAY['order','delivery','customer','warehouse','pallet','steel','cement','cable','paint','truck',
  'rail','ship','north','south','east','west','urgent','fragile','heavy','light','blue','red','green','large',
  'small','box','crate','invoice','payment','return','damaged','signed','received','pending','window','door',
  'morning','evening','monday','friday','please','call','before','after','gate','dock','floor','second',
  'third','site','tower','antenna','fiber','copper','meter','kilo','litre','sample','batch','approved',
  'rejected','checked','sealed','label']`;

const DDL = `CREATE TABLE ${WIDE_TABLE} (
  id bigint PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamp,
  customer_id uuid,
  order_ref text NOT NULL,
  status text NOT NULL,
  channel text,
  country text,
  email text,
  first_name text NOT NULL,
  last_name text NOT NULL,
  street text,
  city text,
  postal_code text,
  phone text,
  title text NOT NULL,
  description text,
  notes text,
  tags text,
  user_agent text,
  amount numeric(12,2) NOT NULL,
  discount numeric(5,4),
  quantity integer NOT NULL,
  weight double precision,
  is_gift boolean,
  shipped_at timestamptz,
  attributes jsonb)`;

/** Invented words (1-4 of these syllables): with the common words, a vocabulary of thousands. */
const SYLLABLES = `ARRAY['ka','lo','mi','ra','te','su','no','ve','di','pa','ri','so','ma','lu','ne','ta','co','be','fi','go',
  'ha','je','ku','li','mo','nu','pe','qui','sa','to','vi','ze']`;
const PHRASES = 65_536;
const PARAGRAPHS = 2_048;

/**
 * Session-local pools the rows draw their text from: phrases of 1-40 words (40% common
 * words, the rest invented ones) and paragraphs of 8-67 phrases (1-9 KB).
 */
const POOLS = [
  `SELECT setseed(0.14)`,
  `CREATE TEMP TABLE wide_phrases AS
     SELECT i, (SELECT string_agg(w.word, ' ') FROM generate_series(1, 1 + (i * 7919) % 40) j
                CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.4 THEN (${WORDS})[1 + floor(random() * 64)::int]
                  ELSE (SELECT string_agg((${SYLLABLES})[1 + floor(random() * 32)::int], '') FROM generate_series(0, (i + j) % 4)) END AS word) w) AS s
     FROM generate_series(0, ${PHRASES - 1}) i`,
  `ANALYZE wide_phrases`,
  `CREATE TEMP TABLE wide_paragraphs AS
     SELECT x.i, string_agg(p.s, '. ' ORDER BY x.j) AS s
     FROM (SELECT i, j FROM generate_series(0, ${PARAGRAPHS - 1}) i, generate_series(1, 8 + (i * 31) % 60) j) x
     JOIN wide_phrases p ON p.i = (x.i * 131 + x.j * 977) % ${PHRASES}
     GROUP BY x.i`,
  `ANALYZE wide_paragraphs`,
];

function insertSql(from: number, to: number): string {
  const created = `timestamptz '2023-01-01 00:00:00+00' + (g * 7919 % 63072000) * interval '1 second'`;
  return `INSERT INTO ${WIDE_TABLE}
    SELECT g,
      ${created},
      CASE WHEN g % 5 = 0 THEN NULL ELSE timestamp '2024-01-01' + (g * 104729 % 31536000000000) * interval '1 microsecond' END,
      CASE WHEN g % 20 = 0 THEN NULL ELSE md5(g::text)::uuid END,
      'ORD-' || lpad(g::text, 10, '0'),
      (ARRAY['new','paid','packed','shipped','delivered','returned'])[1 + (g * 7) % 6],
      CASE WHEN g % 10 < 3 THEN NULL ELSE (ARRAY['web','app','store','phone','partner'])[1 + g % 5] END,
      CASE WHEN g % 11 = 3 THEN NULL ELSE (ARRAY['BR','PT','US','DE','FR','JP','IN','MX','AR','ES'])[1 + (g * 13) % 10] END,
      CASE WHEN g % 20 < 3 THEN NULL ELSE lower(n.fn) || '.' || lower(n.ln) || (g % 997) || '@' || (ARRAY['example.com','mail.test','corp.example','inbox.test'])[1 + g % 4] END,
      n.fn,
      n.ln,
      CASE WHEN g % 10 = 9 THEN NULL ELSE (1 + g % 9999) || ' ' || initcap(split_part(p4.s, ' ', 1)) || ' ' || (ARRAY['Street','Avenue','Road','Lane','Rua','Travessa'])[1 + g % 6] END,
      CASE WHEN g % 13 = 5 THEN NULL ELSE (ARRAY['Recife','Lisboa','Porto','Campinas','Austin','Berlin','Lyon','Osaka','Pune','Monterrey','Rosario','Sevilla'])[1 + (g * 17) % 12] END,
      CASE WHEN g % 4 = 1 THEN NULL ELSE lpad(((g * 7) % 99999)::text, 5, '0') || '-' || lpad((g % 999)::text, 3, '0') END,
      CASE WHEN g % 5 < 2 THEN NULL ELSE '+' || (10 + g % 90) || ' ' || lpad(((g * 104729) % 1000000000)::text, 9, '0') END,
      initcap(p1.s),
      CASE WHEN g % 10 >= 7 THEN NULL WHEN g % 50 = 5 THEN para.s ELSE p2.s || '. ' || p3.s END,
      CASE WHEN g % 7 < 5 THEN NULL ELSE p4.s || ' (ticket ' || (g * 48271 % 2147483647) || ')' END,
      CASE WHEN g % 2 = 0 THEN NULL ELSE replace(left(p3.s, 48), ' ', ',') END,
      CASE WHEN g % 20 < 7 THEN NULL ELSE (ARRAY[
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
        'corrente-partner-sync/2.3 (+https://example.com/bot)',
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36'])[1 + g % 5] || ' build/' || (g % 5000) END,
      ((g * 2654435761 % 10000000) / 100.0)::numeric(12,2),
      CASE WHEN g % 5 < 3 THEN NULL ELSE ((g % 5000) / 10000.0)::numeric(5,4) END,
      (1 + g * 31 % 50)::int,
      CASE WHEN g % 5 = 1 THEN NULL ELSE (g % 100000) / 1000.0 + 0.125 END,
      CASE WHEN g % 4 < 2 THEN NULL ELSE g % 7 = 0 END,
      CASE WHEN g % 5 < 2 THEN NULL ELSE ${created} + (g % 864000) * interval '1 second' END,
      CASE WHEN g % 20 < 9 THEN NULL ELSE jsonb_build_object('size', (ARRAY['S','M','L','XL'])[1 + g % 4], 'score', (g % 1000) / 10.0,
        'vip', g % 13 = 0, 'labels', jsonb_build_array(split_part(p2.s, ' ', 1), split_part(p4.s, ' ', 1))) END
    FROM generate_series(${from}::bigint, ${to}::bigint) g
    CROSS JOIN LATERAL (SELECT (ARRAY['Ana','Bruno','Carla','Diego','Elena','Fabio','Gabi','Hugo','Iris','Joao','Karin','Luis','Marta','Nuno','Olga','Pedro'])[1 + g % 16] AS fn,
                               (ARRAY['Silva','Santos','Oliveira','Souza','Costa','Pereira','Almeida','Ferreira','Rodrigues','Gomes','Martins','Lopes','Schmidt','Tanaka','Patel','Garcia','Moreau'])[1 + (g * 7) % 17] AS ln) n
    JOIN wide_phrases p1 ON p1.i = (g * 2654435761) % ${PHRASES}
    JOIN wide_phrases p2 ON p2.i = (g * 40503 + 11) % ${PHRASES}
    JOIN wide_phrases p3 ON p3.i = (g * 69069 + 7) % ${PHRASES}
    JOIN wide_phrases p4 ON p4.i = (g * 1103515245 + 12345) % ${PHRASES}
    JOIN wide_paragraphs para ON para.i = (g * 97) % ${PARAGRAPHS}`;
}

/** Creates and fills the wide table with exactly `rows` rows, unless it already holds them. */
export async function ensureWideTable(databaseUrl: string, rows: number): Promise<DatasetTable & { seeded: boolean }> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'corrente-bench' });
  await client.connect();
  try {
    const marker = `${GENERATOR} rows=${rows}`;
    const { rows: c } = await client.query<{ c: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS c`, [WIDE_TABLE]);
    const seeded = c[0]?.c !== marker;
    if (seeded) {
      const t0 = performance.now();
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${WIDE_TABLE.split('.')[0]}`);
      await client.query(`DROP TABLE IF EXISTS ${WIDE_TABLE}`);
      await client.query(DDL);
      for (const sql of POOLS) await client.query(sql);
      for (let from = 1; from <= rows; from += BATCH) {
        const to = Math.min(rows, from + BATCH - 1);
        await client.query(insertSql(from, to));
        log(`seeding ${WIDE_TABLE}: ${to.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows`);
      }
      await client.query(`VACUUM (ANALYZE) ${WIDE_TABLE}`);
      await client.query(`COMMENT ON TABLE ${WIDE_TABLE} IS '${marker}'`);
      log(`seeded ${WIDE_TABLE} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const { rows: s } = await client.query<{ n: string; total: string; heap: string }>(
      `SELECT (SELECT count(*) FROM ${WIDE_TABLE})::text AS n, pg_total_relation_size($1::regclass)::text AS total,
              pg_relation_size($1::regclass)::text AS heap`,
      [WIDE_TABLE],
    );
    const n = Number(s[0]!.n);
    if (n !== rows) throw new Error(`${WIDE_TABLE} holds ${n} rows, expected ${rows}: drop it (DROP TABLE ${WIDE_TABLE}) and run again`);
    return { table: WIDE_TABLE, rows: n, totalBytes: Number(s[0]!.total), heapBytes: Number(s[0]!.heap), seeded };
  } finally {
    await client.end();
  }
}
