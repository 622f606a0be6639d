/**
 * The whole command as users run it: `corrente migrate -t <table> --inline --wait --json`
 * in a child process, timed from spawn to exit, with the export and verify seconds it
 * prints, the size of every file from the run's manifest, and the process's peak RSS (the
 * worker runs inside it with `--inline`). A fresh lake and Redis prefix per run.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { claimPrefix, correnteEnv, readMigrateJson, releasePrefix, stagesNote } from './corrente-cli.js';
import type { OutputFile } from './file-sizes.js';
import type { CorrenteContext } from './measure-corrente.js';
import { reproCommand, startChild } from './proc.js';
import { makeTempDir, removeTempDir } from './temp.js';

export interface InlineRun {
  runId: string;
  rows: number;
  /** Spawn to exit of the migrate process. */
  wallSeconds: number;
  exportSeconds: number;
  verifySeconds: number | null;
  verification: string | null;
  bytes: number;
  /** Every data file of the run, from its manifest. */
  files: OutputFile[];
  /** Peak RSS of the migrate process (worker inside), kB, and where it was read. */
  peakKb: number | undefined;
  peakSource: string;
  stagesNote: string[];
  command: string;
}

interface ManifestFiles {
  files: { key: string; bytes: number }[];
}

/** Runs one `migrate --inline --wait --json` of `table` with the config file `configPath`. */
export async function runInlineMigrate(ctx: CorrenteContext, table: string, configPath: string): Promise<InlineRun> {
  const tmp = makeTempDir('corrente-bench-inline-');
  const prefix = claimPrefix(`inline-${table}`);
  try {
    const env = correnteEnv({ databaseUrl: ctx.databaseUrl, prefix, lakeDir: join(tmp, 'lake'), configPath });
    const args = ['migrate', '-t', table, '--inline', '--wait', '--json'];
    const command = reproCommand(env, 'node', ['dist/cli/main.js', ...args]);
    const migrate = startChild(`migrate --inline ${table}`, ctx.cliPath, args, { env, cwd: tmp });
    const exit = await migrate.exited;
    const result = readMigrateJson(migrate, exit, command);
    const t = result.tables.find((x) => x.table === table);
    if (!t || t.exportSeconds === null) throw new Error(`migrate --json reported no export of ${table}`);
    const first = t.files[0];
    if (!first) throw new Error(`migrate --json listed no files for ${table}`);
    // A local lake: the file URIs are paths, the manifest sits beside the files.
    const manifest = JSON.parse(await readFile(join(dirname(first), '_manifest.json'), 'utf8')) as ManifestFiles;
    return {
      runId: result.runId,
      rows: t.rows,
      wallSeconds: exit.seconds,
      exportSeconds: t.exportSeconds,
      verifySeconds: t.verifySeconds,
      verification: t.verification,
      bytes: t.bytes,
      files: manifest.files.map((f) => ({ key: f.key, bytes: f.bytes })),
      peakKb: migrate.rss.peakKb,
      peakSource: `migrate --inline process (${migrate.rss.source}, polled every 100 ms)`,
      stagesNote: stagesNote(t.stages, t.workDiskPeakBytes),
      command,
    };
  } finally {
    await releasePrefix(ctx.redis, prefix);
    await removeTempDir(tmp);
  }
}
