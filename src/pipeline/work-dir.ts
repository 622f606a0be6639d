/**
 * Temporary work directories (Parquet waiting for upload, named pipes, DuckDB spill,
 * downloads): each named after the process that made it, so that a later worker on the
 * same host removes what a killed process (`kill -9`, out of memory, power loss) left
 * behind instead of letting it fill the disk.
 */
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const PREFIX = 'corrente-work-';
const OWNED = /^corrente-work-(\d+)\.([0-9a-f]{8})-/;

/**
 * This host, hashed: a work directory on storage shared by several hosts (or containers,
 * each with its own process ids) is only ever judged by the host that made it.
 */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** Creates `<root>/corrente-work-<pid>.<host>-<kind>-XXXXXX` (root: the OS temp dir when unset). */
export async function makeWorkDir(root: string | undefined, kind: string): Promise<string> {
  const dir = root ?? tmpdir();
  await mkdir(dir, { recursive: true });
  return mkdtemp(join(dir, `${PREFIX}${process.pid}.${HOST}-${kind}-`));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the work directories under `root` that processes of this host which no longer
 * run left behind, and returns their paths. A process id reused since is taken for alive,
 * so nothing in use is ever removed.
 */
export async function sweepStaleWorkDirs(root: string | undefined): Promise<string[]> {
  const dir = root ?? tmpdir();
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    const m = OWNED.exec(name);
    return m !== null && m[2] === HOST && Number(m[1]) !== process.pid && !isAlive(Number(m[1]));
  });
  await Promise.all(stale.map((name) => rm(join(dir, name), { recursive: true, force: true })));
  return stale.map((name) => join(dir, name));
}
