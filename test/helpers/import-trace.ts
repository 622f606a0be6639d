/**
 * Which npm packages a CLI child process loads: runs it with Node's module hooks
 * recording every resolved module (test/helpers/import-trace.mjs).
 */
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runCli, type CliEnv, type CliResult, type RunCliOptions } from './cli.js';

const PRELOAD = new URL('./import-trace.mjs', import.meta.url).href;

/** `@scope/name` or `name` of every package under node_modules whose modules were resolved. */
export function packagesIn(urls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}

/** Runs the CLI like {@link runCli} and also returns the npm packages it loaded. */
export async function runCliTracingImports(args: readonly string[], env: CliEnv, options: RunCliOptions = {}): Promise<CliResult & { packages: string[] }> {
  const file = join(tmpdir(), `corrente-import-trace-${randomBytes(6).toString('hex')}.txt`);
  const nodeOptions = [env.NODE_OPTIONS, `--import=${PRELOAD}`].filter(Boolean).join(' ');
  try {
    const result = await runCli(args, { ...env, NODE_OPTIONS: nodeOptions, IMPORT_TRACE_FILE: file }, options);
    const urls = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return { ...result, packages: packagesIn(urls) };
  } finally {
    await rm(file, { force: true });
  }
}

