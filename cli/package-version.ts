/**
 * The version printed by `corrente --version`: the `version` of corrente's own
 * package.json, found by walking up from this module (it sits at `cli/` in the sources and
 * `dist/cli/` once built).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUp } from '../src/shared/find-up.js';

/** @returns the package version, or `unknown` when no corrente package.json is found. */
export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const version = (dir: string): string | undefined => {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'corrente' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    return undefined;
  };
  return findUp(from, version) ?? 'unknown';
}
