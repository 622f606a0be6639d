/**
 * Which npm packages a CLI child process loads: runs it with Node's module hooks
 * recording every resolved module (test/helpers/import-trace.mjs), the CLI bundle's chunks
 * among them.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { CLI_PATH, runCli, type CliEnv, type CliResult, type RunCliOptions } from './cli.js';

const PRELOAD = new URL('./import-trace.mjs', import.meta.url).href;

/** The CLI bundle's folder, and the packages each of its files holds (scripts/bundle-cli.js). */
const BUNDLE_DIR = pathToFileURL(dirname(CLI_PATH)).href + '/';
let bundlePackages: Record<string, string[]> | undefined;
function packagesInBundleFile(url: string): string[] {
  bundlePackages ??= JSON.parse(readFileSync(join(dirname(CLI_PATH), 'bundle-packages.json'), 'utf8')) as Record<string, string[]>;
  return bundlePackages[url.slice(BUNDLE_DIR.length)] ?? [];
}

/**
 * `@scope/name` or `name` of every package whose code was loaded: resolved under
 * node_modules, or held by a file of the CLI bundle that was loaded.
 */
export function packagesIn(urls: readonly string[]): string[] {
  const out = new Set<string>();
  for (const url of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) out.add(m[1]!);
    else if (url.startsWith(BUNDLE_DIR)) for (const p of packagesInBundleFile(url)) out.add(p);
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

