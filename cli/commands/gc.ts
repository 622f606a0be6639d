/**
 * `corrente gc`: removes superseded published runs (beyond `export.keepRuns` per table),
 * abandoned unfinished runs, and leftovers of interrupted uploads, in every configured
 * bucket. The current run of a table is never touched.
 */
import { collectGarbage, type GarbageReport } from '../../src/pipeline/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { withRuntime } from '../../src/runtime/index.js';
import type { CliContext } from '../cli-context.js';
import { formatBytes } from '../render.js';

export interface GcFlags {
  dryRun?: boolean;
  olderThanHours?: string;
  keep?: string;
  json?: boolean;
}

/** Default age after which an unfinished run is considered abandoned. */
export const DEFAULT_OLDER_THAN_HOURS = 24;

function parseHours(text: string | undefined): number {
  if (text === undefined) return DEFAULT_OLDER_THAN_HOURS;
  const hours = Number(text);
  if (text.trim() === '' || !Number.isFinite(hours) || hours < 0) {
    throw new CorrenteError('CONFIG_INVALID', `--older-than-hours must be a number of hours >= 0, got ${JSON.stringify(text)}`, {
      hint: `Pass e.g. --older-than-hours ${DEFAULT_OLDER_THAN_HOURS} (the default)`,
      option: '--older-than-hours',
    });
  }
  return hours;
}

function parseKeep(text: string | undefined, configured: number): number {
  if (text === undefined) return configured;
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) {
    throw new CorrenteError('CONFIG_INVALID', `--keep must be a whole number of runs >= 1, got ${JSON.stringify(text)}`, {
      hint: `Pass e.g. --keep ${configured} (export.keepRuns); the current run is always kept as well`,
      option: '--keep',
    });
  }
  return Number(text);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The human report: one line per removed run, kept-run notes, upload cleanup, totals. */
export function renderGcReport(report: GarbageReport): string {
  const lines: string[] = [];
  const verb = report.dryRun ? 'would remove' : 'removed';
  for (const t of report.tables) {
    const where = `${t.bucket}/${t.prefix}`;
    if (t.skipped !== undefined) lines.push(`${where}: skipped: ${t.skipped}`);
    for (const r of t.removed) {
      lines.push(`${where}: ${verb} run-${r.runId} (${r.reason}, ${plural(r.objects, 'object')}, ${formatBytes(r.bytes)})`);
    }
    for (const n of t.notes) lines.push(`${where}: kept run-${n.runId}: ${n.note}`);
  }
  for (const b of report.buckets) {
    if (b.status === 'missing') lines.push(`${b.bucket}: bucket does not exist, nothing to collect`);
    else if (b.status === 'unsupported') lines.push(`${b.bucket}: stale uploads left alone: the object storage cannot list multipart uploads`);
    else if (b.status === 'done' && b.aborted > 0) lines.push(`${b.bucket}: aborted ${plural(b.aborted, 'stale upload')}`);
  }
  const kept = report.tables.reduce((n, t) => n + t.kept.length, 0);
  const { runs, objects, bytes } = report.totals;
  lines.push(
    `${report.dryRun ? 'dry run: would remove' : 'removed'} ${plural(runs, 'run')} (${plural(objects, 'object')}, ${formatBytes(bytes)}) ` +
      `in ${plural(report.tables.length, 'table')}; ${plural(kept, 'run')} kept` +
      (report.dryRun ? '' : `; ${plural(report.abortedUploads, 'stale upload')} aborted`),
  );
  return `${lines.join('\n')}\n`;
}

export async function gcCommand(ctx: CliContext, flags: GcFlags): Promise<number> {
  const keepRuns = parseKeep(flags.keep, ctx.config.export.keepRuns);
  const olderThanHours = parseHours(flags.olderThanHours);
  const olderThanMs = olderThanHours * 3_600_000;
  const jobTimeoutMs = ctx.config.worker.jobTimeoutMinutes * 60_000;
  if (olderThanMs < jobTimeoutMs) {
    process.stderr.write(
      `corrente: warning: --older-than-hours ${olderThanHours} is shorter than worker.jobTimeoutMinutes (${ctx.config.worker.jobTimeoutMinutes}); ` +
        'an export still running may lose its files (it then fails verification and publishes nothing)\n',
    );
  }
  const buckets = [...new Set(Object.values(ctx.config.storage.buckets))];
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const report = await collectGarbage(await runtime.store(), buckets, {
      keepRuns,
      olderThanMs,
      dryRun: flags.dryRun ?? false,
      logger: ctx.logger,
    });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderGcReport(report));
    return 0;
  });
}
