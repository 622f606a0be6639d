/**
 * Ratios, the markdown table, the PASS/FAIL target lines and the JSON result.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { BenchArgs } from './args.js';
import type { CodeSnapshot } from './code-snapshot.js';
import type { Dataset } from './dataset.js';
import { REPO_ROOT, RESULTS_DIR } from './paths.js';
import { endToEndTargets } from './end-to-end-report.js';
import { RESTORE_LABEL, RESTORE_LIMIT_LABEL } from './measure-restore.js';
import { checkTarget, type TargetResult } from './target.js';
import type { Measurement } from './types.js';


const byKey = (ms: Measurement[], key: string): Measurement | undefined => ms.find((m) => m.key === key && !m.error);

/** Fills xLimit and xDuckdbRef on every measurement. */
export function computeRatios(ms: Measurement[]): void {
  const limit = byKey(ms, 'limit');
  const ref = byKey(ms, 'duckdb-ref');
  const refBytesPerRow = ref?.outputBytes && ref.rows ? ref.outputBytes / ref.rows : null;
  // Rows that carry their own references (end-to-end: per table, same round) keep them.
  for (const m of ms) {
    m.xLimit ??= limit?.rowsPerSecond && m.rowsPerSecond ? m.rowsPerSecond / limit.rowsPerSecond : null;
    m.xDuckdbRef ??=
      refBytesPerRow && m.factTableOnly && m.outputBytes !== null && m.rows ? m.outputBytes / m.rows / refBytesPerRow : null;
  }
  // Scaling: speed-up of each worker count over the smallest one.
  const scaling = ms.filter((m) => m.key === 'scaling' && !m.error && m.rowsPerSecond);
  const base = scaling[0];
  if (base?.rowsPerSecond) {
    for (const m of scaling.slice(1)) {
      const speedup = m.rowsPerSecond! / base.rowsPerSecond;
      m.details.speedupOver = { label: base.label, speedup };
      m.notes.push(`${speedup.toFixed(2)}x ${base.label}`);
    }
  }
}

export function evaluateTargets(ms: Measurement[]): TargetResult[] {
  const local = byKey(ms, 'corrente-local');
  const limit = byKey(ms, 'limit');
  const naive = byKey(ms, 'naive');
  const ref = byKey(ms, 'duckdb-ref');
  const verify = byKey(ms, 'corrente-local+verify');
  const out: TargetResult[] = [];
  const fmt = (n: number | null | undefined, d = 2): string => (n === null || n === undefined ? '?' : n.toFixed(d));
  const rate = (n: number | null | undefined): string => (n ? Math.round(n).toLocaleString('en-US') : '?');

  const t = (name: string, threshold: number, actual: number | null, atMost: boolean, detail: string): void => {
    out.push(checkTarget(name, threshold, actual, atMost, detail));
  };

  const xLimit = local?.rowsPerSecond && limit?.rowsPerSecond ? local.rowsPerSecond / limit.rowsPerSecond : null;
  t('corrente-local >= 0.6 x limit', 0.6, xLimit, false,
    xLimit === null ? 'corrente-local and limit' : `${fmt(xLimit)} x (${rate(local?.rowsPerSecond)} vs ${rate(limit?.rowsPerSecond)} rows/s)`);

  const xNaive = local?.rowsPerSecond && naive?.rowsPerSecond ? local.rowsPerSecond / naive.rowsPerSecond : null;
  t('corrente-local >= 20 x naive', 20, xNaive, false,
    xNaive === null ? 'corrente-local and naive' : `${fmt(xNaive, 1)} x (${rate(local?.rowsPerSecond)} vs ${rate(naive?.rowsPerSecond)} rows/s)`);

  const workerRows = ms.filter((m) => !m.error && m.peakRssMb !== null && (m.key.startsWith('corrente') || m.key === 'scaling'));
  const peak = workerRows.length ? Math.max(...workerRows.map((m) => m.peakRssMb!)) : null;
  t('peak worker RSS <= 300 MB', 300, peak, true,
    peak === null ? 'a corrente measurement' : `max ${fmt(peak, 0)} MB over ${workerRows.map((m) => `${m.label} ${fmt(m.peakRssMb, 0)}`).join(', ')}`);

  const xRef = local?.outputBytes && ref?.outputBytes && local.rows && ref.rows ? local.outputBytes / local.rows / (ref.outputBytes / ref.rows) : null;
  t('corrente-local output <= 1.1 x duckdb-ref', 1.1, xRef, true,
    xRef === null ? 'corrente-local and duckdb-ref' : `${fmt(xRef)} x (${mb(local?.outputBytes)} vs ${mb(ref?.outputBytes)} MB)`);

  // The source checksums run beside the COPY, so verification also slows the export
  // itself: compare the whole verified run with the unverified export.
  const adds = verify?.seconds && local?.seconds ? (verify.seconds / local.seconds - 1) * 100 : null;
  const restore = ms.find((m) => m.label === RESTORE_LABEL && !m.error);
  const restoreLimit = ms.find((m) => m.label === RESTORE_LIMIT_LABEL && !m.error);
  const xCopyIn = restore?.rowsPerSecond && restoreLimit?.rowsPerSecond ? restore.rowsPerSecond / restoreLimit.rowsPerSecond : null;
  t('restore >= 0.5 x psql \\copy FROM', 0.5, xCopyIn, false,
    xCopyIn === null ? 'restore' : `${fmt(xCopyIn)} x (${rate(restore?.rowsPerSecond)} vs ${rate(restoreLimit?.rowsPerSecond)} rows/s)`);

  const apiPage = ms.find((m) => m.key === 'api' && m.label.startsWith('API filtered page') && !m.error);
  const apiRows = ms.filter((m) => m.key === 'api' && !m.error);
  const pageP95 = (apiPage?.details.api as { p95?: number } | undefined)?.p95 ?? null;
  t('API filtered page p95 <= 100 ms', 100, pageP95, true, pageP95 === null ? 'api' : `p95 ${fmt(pageP95, 1)} ms`);
  const overhead = apiRows.length ? Math.max(...apiRows.map((m) => m.details.overheadP50Ms as number)) : null;
  t('API overhead over DuckDB at p50 <= 20 ms', 20, overhead, true, overhead === null ? 'api' : apiRows.map((m) => `${m.label} +${fmt(m.details.overheadP50Ms as number, 1)} ms`).join(', '));

  t('verification adds <= 35%', 35, adds, true,
    adds === null ? 'corrente-local and corrente-local+verify' : `+${fmt(adds, 1)}% (export+verify ${fmt(verify?.seconds)} s vs export alone ${fmt(local?.seconds)} s; the verify job itself ${fmt(verify?.details.verifySeconds as number)} s)`);
  out.push(...endToEndTargets(ms));
  return out;
}

function mb(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? '-' : (bytes / 1e6).toFixed(1);
}

export function markdownTable(ms: Measurement[]): string {
  const head = ['measurement', 'rows', 'seconds', 'rows/s', 'x limit', 'peak RSS MB', 'output MB', 'x duckdb-ref', 'notes'];
  const num = (n: number | null | undefined, d: number): string => (n === null || n === undefined ? '-' : n.toFixed(d));
  const int = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
  const rows = ms.map((m) =>
    m.error
      ? [m.label, '-', '-', '-', '-', '-', '-', '-', `FAILED: ${m.error.split('\n')[0]}`]
      : [
          m.label,
          int(m.rows),
          num(m.seconds, 2),
          int(m.rowsPerSecond),
          num(m.xLimit, 2),
          num(m.peakRssMb, 0),
          mb(m.outputBytes),
          num(m.xDuckdbRef, 2),
          m.notes.join('; '),
        ],
  );
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [head, head.map((h, i) => (i === 0 || i === 8 ? '---' : '---:')), ...rows].map((r) => `| ${r.map(esc).join(' | ')} |`).join('\n');
}

export function targetLines(targets: TargetResult[]): string {
  return targets.map((t) => `${t.status.padEnd(4)}  ${t.name}: ${t.detail}`).join('\n');
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Load averages matter: other work on a 2-core machine moves every figure. */
export function machineInfo(loadAtStart?: number[]): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
    loadAverageAtStart: loadAtStart?.map((x) => Math.round(x * 100) / 100) ?? null,
    loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface BenchResult {
  date: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  git: GitInfo & { distBuiltAt: string | null; distHash: string | null };
  args: Omit<BenchArgs, 'help' | 'json'>;
  rows: number;
  dataset: Dataset | null;
  measurements: Measurement[];
  targets: TargetResult[];
}

export interface GitInfo {
  commit: string | null;
  dirtyFiles: number | null;
  dirty: string[] | null;
}

/** Call at the start of a run (others commit while it runs): HEAD and uncommitted files. */
export function captureGit(): GitInfo {
  const dirty = git(['status', '--porcelain']);
  return {
    commit: git(['rev-parse', 'HEAD']),
    dirtyFiles: dirty === null ? null : dirty.split('\n').filter(Boolean).length,
    dirty: dirty === null ? null : dirty.split('\n').filter(Boolean).slice(0, 100),
  };
}

export function buildResult(
  startedAt: Date,
  args: BenchArgs,
  dataset: Dataset | null,
  ms: Measurement[],
  targets: TargetResult[],
  gitAtStart: GitInfo,
  loadAtStart?: number[],
  code?: CodeSnapshot | null,
): BenchResult {
  return {
    date: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    // The working tree others are editing: the commit alone does not say what code ran.
    git: {
      ...gitAtStart,
      distBuiltAt: code?.builtAt ?? null,
      distHash: code?.hash ?? null,
    },
    args: { rows: args.rows, only: args.only, database: args.database.replace(/:[^:@/]*@/, ':***@'), workers: args.workers, rounds: args.rounds, wideRows: args.wideRows },
    rows: args.rows,
    dataset,
    measurements: ms,
    targets,
  };
}

/** Writes bench/results/latest.json and returns its path. */
export function writeResult(result: BenchResult): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'latest.json');
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
