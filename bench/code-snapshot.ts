/**
 * A private copy of the compiled service for one benchmark run.
 *
 * Other people rebuild dist/ while they work; without a copy, a long run could start on
 * one build and finish on another (seen: the first corrente runs failing on one build and
 * the last one passing on the next). `npm run bench` builds, then this copies
 * dist/{cli,src,queues,workers,scheduler} into a temp dir (with package.json for
 * `"type": "module"` and a node_modules symlink for resolution), and every worker and
 * migrate process runs from there. The content hash goes into the JSON result.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, chmodSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './paths.js';
import { makeTempDir } from './temp.js';

const PARTS = ['cli', 'src', 'queues', 'workers', 'scheduler'];

export interface CodeSnapshot {
  dir: string;
  /** `<dir>/dist/cli/main.js`. */
  cliPath: string;
  /** When dist/cli/main.js was last built. */
  builtAt: string;
  /** sha256 over the copied .js files (path + content), first 16 hex digits. */
  hash: string;
  files: number;
}

function listJs(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listJs(p, out);
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
}

export function snapshotDist(): CodeSnapshot {
  const dist = join(REPO_ROOT, 'dist');
  const main = join(dist, 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm run bench does)`);
  const dir = makeTempDir('corrente-bench-code-');
  for (const part of PARTS) {
    const from = join(dist, part);
    if (existsSync(from)) cpSync(from, join(dir, 'dist', part), { recursive: true });
  }
  copyFileSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const hash = createHash('sha256');
  const files = listJs(join(dir, 'dist')).sort();
  for (const f of files) {
    hash.update(relative(dir, f));
    hash.update(readFileSync(f));
  }
  const cliPath = join(dir, 'dist', 'cli', 'main.js');
  // Run as users run the `corrente` bin: through its `#!` line and the settings it sets.
  chmodSync(cliPath, 0o755);
  return {
    dir,
    cliPath,
    builtAt: statSync(main).mtime.toISOString(),
    hash: hash.digest('hex').slice(0, 16),
    files: files.length,
  };
}
