/**
 * Command-line conventions, through the built CLI: what `--help`, `--version` and `status`
 * load (only what they need, seen by Node's module hooks), `--version`, usage errors as
 * one line with exit code 2, and `.env` in the working directory.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH, createCliSandbox, expectCleanFailure, runCli, stderrLines, type CliEnv, type CliSandbox } from '../helpers/cli.js';
import { runCliTracingImports } from '../helpers/import-trace.js';

const execFileAsync = promisify(execFile);

const sandboxes: CliSandbox[] = [];
async function sandbox(extra: CliEnv = {}): Promise<CliSandbox> {
  const s = await createCliSandbox(extra);
  sandboxes.push(s);
  return s;
}

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.cleanup()));
});

describe('what a command loads', () => {
  it('--help and --version load no package but commander', async () => {
    const s = await sandbox();
    for (const args of [['--help'], ['--version'], ['migrate', '--help']]) {
      const r = await runCliTracingImports(args, s.env, { cwd: s.cwd });
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
      expect(r.packages, args.join(' ')).toEqual(['commander']);
    }
  });

  it('--help lists every command and migrate --help every option', async () => {
    const s = await sandbox();
    const top = await runCli(['--help'], s.env, { cwd: s.cwd });
    for (const c of ['migrate', 'worker', 'verify', 'status', 'gc', 'schedule', 'seed', 'demo']) expect(top.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    expect(top.stdout).toContain('--version');
    const migrate = await runCli(['migrate', '--help'], s.env, { cwd: s.cwd });
    for (const o of ['--tables', '--exclude', '--wait', '--inline', '--json', '--run-id']) expect(migrate.stdout).toContain(o);
  });

  it('status loads neither DuckDB nor the AWS SDK, even with S3 configured', async () => {
    const s = await sandbox();
    for (const env of [s.env, { ...s.env, MINIO_ENDPOINT: 'http://127.0.0.1:9', MINIO_ACCESS_KEY: 'k', MINIO_SECRET_KEY: 's' }]) {
      const r = await runCliTracingImports(['status'], env, { cwd: s.cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('No runs yet');
      expect(r.packages).toContain('ioredis'); // the trace does see packages
      expect(r.packages.filter((p) => p.startsWith('@duckdb/') || p.startsWith('@aws-sdk/'))).toEqual([]);
    }
  });

  it('a command that exports does load them (the trace is not blind to them), the AWS SDK only for S3', async () => {
    const s = await sandbox();
    const local = await runCliTracingImports(['verify', 'core.no_such_table_here'], s.env, { cwd: s.cwd });
    expect(local.code).not.toBe(0);
    expect(local.packages).toContain('@duckdb/node-api');
    expect(local.packages.filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
    const s3 = await runCliTracingImports(['verify', 'core.no_such_table_here'], { ...s.env, MINIO_ENDPOINT: 'http://127.0.0.1:9', MINIO_ACCESS_KEY: 'k', MINIO_SECRET_KEY: 's' }, { cwd: s.cwd });
    expect(s3.code).not.toBe(0);
    expect(s3.packages).toEqual(expect.arrayContaining(['@duckdb/node-api', '@aws-sdk/client-s3', '@aws-sdk/lib-storage']));
  });
});

describe('--version', () => {
  it('prints the version of package.json', async () => {
    const s = await sandbox();
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], s.env, { cwd: s.cwd });
      expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });
});

describe('the built bin', () => {
  it('runs by itself through its #! line, which sets the memory settings the bench measures', async () => {
    const s = await sandbox();
    const [shebang] = (await readFile(CLI_PATH, 'utf8')).split('\n', 1);
    expect(shebang).toBe('#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --optimize-for-size');
    const r = await execFileAsync(CLI_PATH, ['--version'], { env: s.env, cwd: s.cwd });
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('usage errors: one line on stderr, exit 2', () => {
  const cases: { name: string; args: string[]; patterns: (string | RegExp)[] }[] = [
    { name: 'unknown option, with the suggestion', args: ['migrate', '--tabels', 'core.x'], patterns: ["unknown option '--tabels'", 'Did you mean --tables?', 'corrente migrate --help'] },
    { name: 'unknown global option', args: ['--colour'], patterns: ["unknown option '--colour'", 'corrente --help'] },
    { name: 'unknown command', args: ['migrat'], patterns: ["unknown command 'migrat'", /Did you mean migrate\?/] },
    { name: 'missing argument', args: ['verify'], patterns: ["missing required argument 'table'", 'corrente verify --help'] },
    { name: 'option without its value', args: ['migrate', '--tables'], patterns: ['--tables <list>', /argument missing/] },
    { name: 'bad choice', args: ['--log-level', 'loud', 'status'], patterns: ["'loud' is invalid", 'Allowed choices are fatal'] },
    { name: 'bad number', args: ['worker', '--concurrency', 'two'], patterns: ["'two' is invalid", 'whole number >= 1', 'corrente worker --help'] },
    { name: 'too many arguments', args: ['status', 'a', 'b'], patterns: [/too many arguments/] },
    { name: 'no command at all', args: [], patterns: ['no command given', 'migrate, worker'] },
  ];
  it.concurrent.each(cases)('$name', async ({ args, patterns }) => {
    const s = await sandbox();
    const r = await runCli(args, s.env, { cwd: s.cwd });
    expectCleanFailure(r, 2, patterns);
  });

  it('without a command the help goes to stdout', async () => {
    const s = await sandbox();
    const r = await runCli([], s.env, { cwd: s.cwd });
    expect(r.stdout).toContain('Usage: corrente');
    expect(stderrLines(r.stderr)).toHaveLength(1);
  });
});

describe('.env in the working directory', () => {
  it('is read when present', async () => {
    const s = await sandbox();
    const { REDIS_URL: _unused, ...env } = s.env;
    await writeFile(join(s.cwd, '.env'), '# where Redis is\nREDIS_URL="redis://127.0.0.1:1"\n');
    const r = await runCli(['status'], env, { cwd: s.cwd });
    expectCleanFailure(r, 3, [/Redis/, '127.0.0.1:1']);
  });

  it('loses to variables already set in the environment', async () => {
    const s = await sandbox();
    await writeFile(join(s.cwd, '.env'), 'REDIS_URL=redis://127.0.0.1:1\nexport LOG_LEVEL=nonsense\n');
    const ok = await runCli(['status'], s.env, { cwd: s.cwd, timeoutMs: 20_000 });
    // LOG_LEVEL is not in the environment, so the file's bad value applies and is named.
    expectCleanFailure(ok, 2, ['log.level']);
    const r = await runCli(['status'], { ...s.env, LOG_LEVEL: 'warn' }, { cwd: s.cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('No runs yet');
  });
});
