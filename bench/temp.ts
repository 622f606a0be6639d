/**
 * Temporary directories of one benchmark run, all removed at the end (or on Ctrl-C).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

export async function removeAllTempDirs(): Promise<void> {
  await Promise.all([...dirs].map((d) => removeTempDir(d).catch(() => {})));
}

/** For signal handlers, where there is no time for promises. */
export function removeAllTempDirsSync(): void {
  for (const d of dirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  dirs.clear();
}
