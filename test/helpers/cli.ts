/**
 * Runs the built `corrente` CLI (`dist/cli/main.js`) as a child process, exactly as a
 * user would, inside a sandbox: a fresh temp lake dir, a fresh working directory (so no
 * stray `./corrente.yaml` is picked up), a unique Redis prefix, and an environment built
 * from scratch (nothing from the developer's shell leaks in except PATH/HOME/NODE_OPTIONS).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { TEST_DATABASE_URL } from './pg.js';

/** The built entry point (the integration globalSetup builds `dist/` once). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type CliEnv = Record<string, string>;

export interface CliResult {
  /** Exit code; null when the process was killed by a signal (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
}

export interface CliSandbox {
  /** The environment to pass to {@link runCli}; add or override keys per call. */
  env: CliEnv;
  lakeDir: string;
  prefix: string;
  /** Working directory for the child (empty). */
  cwd: string;
  /** Removes the temp dirs and every Redis key under the prefix. */
  cleanup(): Promise<void>;
}

/** A fresh lake dir, cwd and Redis prefix, and the env that points the CLI at them. */
export async function createCliSandbox(extra: CliEnv = {}): Promise<CliSandbox> {
  const lakeDir = await mkdtemp(join(tmpdir(), 'corrente-cli-lake-'));
  const cwd = await mkdtemp(join(tmpdir(), 'corrente-cli-cwd-'));
  const prefix = `corrente-test-${randomBytes(6).toString('hex')}`;
  const env: CliEnv = {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
    ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    LAKE_DIR: lakeDir,
    CORRENTE_REDIS_PREFIX: prefix,
    ...extra,
  };
  return {
    env,
    lakeDir,
    prefix,
    cwd,
    cleanup: async () => {
      await Promise.all([rm(lakeDir, { recursive: true, force: true }), rm(cwd, { recursive: true, force: true }), deleteRedisPrefix(prefix)]);
    },
  };
}

async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // Best effort: keys expire anyway.
  } finally {
    redis.disconnect();
  }
}

export interface RunCliOptions {
  cwd?: string;
  /** Kill the child (SIGKILL) after this long. @defaultValue 60 s */
  timeoutMs?: number;
}

/** Runs `node dist/cli/main.js ...args` and resolves with its exit code and output (never rejects). */
export function runCli(args: readonly string[], env: CliEnv, options: RunCliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI_PATH, ...args],
      { env, cwd: options.cwd ?? tmpdir(), timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals | null }) | null;
        const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
        resolve({ code, signal: e?.signal ?? null, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

export interface SpawnedCli {
  child: ChildProcess;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when the child exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a long-running CLI command (e.g. `worker`) in the background. */
export function spawnCli(args: readonly string[], env: CliEnv, options: { cwd?: string } = {}): SpawnedCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, cwd: options.cwd ?? tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output: () => ({ stdout, stderr }), exited };
}

/**
 * stderr lines, without Node's own process warnings (`(node:123) Warning: ...` up to its
 * `(Use \`node --trace-warnings ...\`` trailer). The AWS SDK emits a multi-line
 * NodeVersionSupportWarning on Node 20 that is not corrente's output.
 */
export function stderrLines(stderr: string): string[] {
  const out: string[] = [];
  let inWarning = false;
  for (const line of stderr.split('\n')) {
    if (/^\(node:\d+\) \S*Warning/.test(line)) {
      inWarning = true;
      continue;
    }
    if (inWarning) {
      if (/^\(Use `node --trace-warnings/.test(line)) inWarning = false;
      continue;
    }
    if (line.trim() !== '') out.push(line);
  }
  return out;
}

/**
 * Asserts the CLI failed the way the error contract says: the given exit code, exactly one
 * non-empty line on stderr of the form `corrente: <message>`, no stack trace, and that line
 * matching every pattern. Returns the line.
 */
export function expectCleanFailure(result: CliResult, code: number, patterns: readonly (RegExp | string)[] = []): string {
  const context = `exit ${result.code} (signal ${result.signal}) after ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  expect(result.code, context).toBe(code);
  expect(result.stderr, 'no stack trace lines').not.toMatch(/^\s{4}at /m);
  const lines = stderrLines(result.stderr);
  expect(lines, `exactly one error line on stderr\n${context}`).toHaveLength(1);
  const line = lines[0]!;
  expect(line, context).toMatch(/^corrente: \S/);
  for (const p of patterns) {
    if (typeof p === 'string') expect(line, context).toContain(p);
    else expect(line, context).toMatch(p);
  }
  return line;
}

/** Every file under `dir` (recursively), as absolute paths. */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFilesRecursive(p)));
    else out.push(p);
  }
  return out;
}

/** Published table pointers (`_current.json`) anywhere under a local lake dir. */
export async function currentPointersUnder(dir: string): Promise<string[]> {
  return (await listFilesRecursive(dir)).filter((p) => p.endsWith('/_current.json'));
}

/** One table in `migrate --json` / `status --json` output (what tests read). */
export interface TableJson {
  table: string;
  state: string;
  rows: number;
  bytes: number;
  files: string[];
  checksums: string[];
  verification: string | null;
  exportSeconds: number | null;
  /** Seconds per export stage (see the manifest's `timings.stages`). */
  stages: { read: number; readPaused: number; convert: number; upload: number; checksumWait: number } | null;
  /** Most bytes the export held in its work directory at once. */
  workDiskPeakBytes: number | null;
  error?: { code: string; message: string };
}

/** `migrate --json` output. */
export interface RunJson {
  runId: string;
  ok: boolean;
  tables: TableJson[];
}
