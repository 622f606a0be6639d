/**
 * The layer rules of eslint.config.js (STYLE.md Part C) really fire: each forbidden import
 * is linted as if it lived in the named file and must be reported by the named rule, and
 * each allowed one must pass. One case runs the eslint CLI to prove a violation fails it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

// Loading the config, the TypeScript parser and the resolver takes a few seconds on a
// busy 2-core machine: pay it once here, with room, rather than in the first case.
beforeAll(async () => {
  // `ignore: false`: the cycle fixture lives in a folder `npm run lint` ignores.
  eslint = new ESLint({ cwd: root, ignore: false });
  await eslint.lintText('export {};\n', { filePath: `${root}src/shared/warm-up.ts` });
}, 60_000);

/** Rule ids reported for `code` linted as the file `file` (relative to the repo root). */
async function rulesFor(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\n`, { filePath: `${root}${file}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

const PATHS = 'import-x/no-restricted-paths';
const SDK = 'no-restricted-imports';

describe('layer rules refuse', () => {
  const cases: [string, string, string, string][] = [
    ['src/shared imports a module', 'src/shared/x.ts', "export * from '../postgres/index.js';", PATHS],
    ['src/shared imports config', 'src/shared/x.ts', "export * from '../config/index.js';", PATHS],
    ['src/config imports a domain module', 'src/config/x.ts', "export * from '../storage/index.js';", PATHS],
    ['a domain sibling', 'src/duckdb/x.ts', "export * from '../postgres/index.js';", PATHS],
    ['storage imports the lake', 'src/storage/x.ts', "export * from '../lake/index.js';", PATHS],
    ['a domain module imports the pipeline', 'src/postgres/x.ts', "export * from '../pipeline/index.js';", PATHS],
    ['src/ imports queues/', 'src/pipeline/x.ts', "export * from '../../queues/index.js';", PATHS],
    ['src/ imports workers/', 'src/lake/x.ts', "export * from '../../workers/start-workers.js';", PATHS],
    ['queues/ imports the pipeline', 'queues/x.ts', "export * from '../src/pipeline/index.js';", PATHS],
    ['queues/ imports the lake', 'queues/x.ts', "export * from '../src/lake/index.js';", PATHS],
    ['an edge imports cli/', 'workers/x.ts', "export * from '../cli/render.js';", PATHS],
    ['a deep file of another module', 'cli/x.ts', "export * from '../src/postgres/pool.js';", PATHS],
    ['a deep file, dynamically', 'cli/x.ts', "export const m = await import('../src/duckdb/duckdb-session.js');", PATHS],
    ['pg outside src/postgres', 'src/pipeline/x.ts', "import type { Pool } from 'pg';\nexport type P = Pool;", SDK],
    ['DuckDB outside src/duckdb', 'cli/x.ts', "export { DuckDBInstance } from '@duckdb/node-api';", SDK],
    ['the S3 SDK outside src/storage', 'src/lake/x.ts', "export { S3Client } from '@aws-sdk/client-s3';", SDK],
    ['bullmq in src/', 'src/pipeline/x.ts', "export { Queue } from 'bullmq';", SDK],
    ['pino in src/', 'src/postgres/x.ts', "export { pino } from 'pino';", SDK],
    ['the S3 SDK loaded dynamically', 'cli/x.ts', "export const m = await import('@aws-sdk/client-s3');", 'no-restricted-syntax'],
    ['an import the resolver cannot follow', 'src/pipeline/x.ts', "export * from '../nowhere/index.js';", 'import-x/no-unresolved'],
  ];
  it.each(cases)('%s', async (_name, file, code, rule) => {
    expect(await rulesFor(file, code)).toContain(rule);
  });

  it('an import cycle', async () => {
    // test/fixtures/lint/cycle-{a,b}.ts import each other; `npm run lint` ignores that folder.
    const code = "import { b } from './cycle-b.js';\nexport const a = (): number => b() + 1;";
    expect(await rulesFor('test/fixtures/lint/cycle-a.ts', code)).toContain('import-x/no-cycle');
  });
});

describe('layer rules allow', () => {
  const cases: [string, string, string][] = [
    ['an edge using the pipeline, queues and config', 'cli/x.ts', "export * from '../src/pipeline/index.js';\nexport * from '../queues/index.js';\nexport * from '../src/config/index.js';"],
    ['the pipeline composing domain modules', 'src/pipeline/x.ts', "export * from '../postgres/index.js';\nexport * from '../duckdb/index.js';\nexport * from '../lake/index.js';"],
    ['the lake using the ObjectStore contract', 'src/lake/x.ts', "export type { ObjectStore } from '../storage/index.js';"],
    ['a domain module using config and shared', 'src/duckdb/x.ts', "export type { Config } from '../config/index.js';\nexport { CorrenteError } from '../shared/errors.js';"],
    ['pg in its home', 'src/postgres/x.ts', "export { default as pg } from 'pg';"],
    ['bullmq on the queue side', 'workers/x.ts', "export { Worker } from 'bullmq';"],
    ['an edge loading a module lazily', 'cli/x.ts', "export const m = await import('../src/duckdb/index.js');"],
    ['tests reaching a module internal', 'test/unit/x.test.ts', "export * from '../../src/postgres/copy-out.js';"],
  ];
  it.each(cases)('%s', async (_name, file, code) => {
    expect(await rulesFor(file, code)).toEqual([]);
  });
});

it('the eslint CLI exits non-zero on a forbidden import', async () => {
  const bin = fileURLToPath(new URL('../../node_modules/eslint/bin/eslint.js', import.meta.url));
  const child = execFile(process.execPath, [bin, '--stdin', '--stdin-filename', 'src/shared/x.ts'], { cwd: root });
  child.stdin?.end("export * from '../postgres/index.js';\n");
  const [code, out] = await new Promise<[number | null, string]>((resolve) => {
    let text = '';
    child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    child.on('close', (c) => resolve([c, text]));
  });
  expect(code).toBe(1);
  expect(out).toContain('src/shared is the leaf');
}, 60_000);
