/**
 * The end-to-end measurement's rounds turned into result rows (medians), and its targets
 * (issue 14). Speed targets use the median over rounds of the ratio within each round
 * (paired: the paths of one round ran back to back); sizes, files and memory are per run.
 */
import { checkFileSizes, type FileSizeCheck, type OutputFile } from './file-sizes.js';
import { median, spread } from './stats.js';
import { checkTarget, type TargetResult } from './target.js';
import type { Measurement } from './types.js';

export type PathName = 'copy' | 'manual' | 'corrente' | 'unverified';

export interface RoundRecord {
  round: number;
  order: PathName[];
  /** `cpuSeconds` (each path): busy CPU seconds of the whole machine while it ran (bench/machine-cpu.ts). */
  copy: { seconds: number; cpuSeconds: number | null; load1: number };
  manual: { seconds: number; copySeconds: number; duckdbSeconds: number; bytes: number; csvBytes: number; peakRssMb: number | null; cpuSeconds: number | null; load1: number };
  corrente: {
    runId: string;
    wallSeconds: number;
    exportSeconds: number;
    verifySeconds: number | null;
    verification: string | null;
    bytes: number;
    files: OutputFile[];
    peakRssMb: number | null;
    peakSource: string;
    stagesNote: string[];
    command: string;
    cpuSeconds: number | null;
    load1: number;
  };
  /** corrente's whole command with `export.verify: false`. */
  unverified: { wallSeconds: number; exportSeconds: number; cpuSeconds: number | null; load1: number };
}

export interface EndToEndSummary {
  table: string;
  short: string;
  rows: number;
  rounds: RoundRecord[];
  /** Medians over the rounds, seconds. */
  median: { copy: number; manual: number; manualCopy: number; manualDuckdb: number; wall: number; export: number; verify: number; unverifiedWall: number; unverifiedExport: number };
  /** One value per round. */
  ratios: { wallOverManual: number[]; manualOverExport: number[]; copyOverExport: number[]; unverifiedWallOverManual: number[]; manualOverUnverifiedExport: number[] };
  bytes: { corrente: number; manual: number };
  /** The round with the most undersized files (all rounds when equal: the first). */
  files: FileSizeCheck;
  peakRssMb: number | null;
  load1: number[];
  /** Medians of each path's busy CPU seconds (null where a round could not read them), and the machine's cores. */
  cpu: { copy: number | null; manual: number | null; corrente: number | null; unverified: number | null; cores: number };
}

/** The targets of issue 14. */
export const TARGETS = {
  wallOverManual: 1.0,
  manualOverExport: 1.3,
  copyOverExport: 0.6,
  minFileMb: 64,
  bytesOverManual: 1.0,
  peakRssMb: 150,
} as const;

function summarize(spec: { table: string; short: string; rows: number }, rounds: RoundRecord[], cores: number): EndToEndSummary {
  const m = (f: (r: RoundRecord) => number): number => median(rounds.map(f));
  const cpu = (f: (r: RoundRecord) => number | null): number | null => {
    const xs = rounds.map(f);
    return xs.every((x): x is number => x !== null) ? median(xs) : null;
  };
  const checks = rounds.map((r) => checkFileSizes(r.corrente.files, TARGETS.minFileMb * 1e6));
  const peaks = rounds.map((r) => r.corrente.peakRssMb).filter((x): x is number => x !== null);
  return {
    ...spec,
    rounds,
    median: {
      copy: m((r) => r.copy.seconds),
      manual: m((r) => r.manual.seconds),
      manualCopy: m((r) => r.manual.copySeconds),
      manualDuckdb: m((r) => r.manual.duckdbSeconds),
      wall: m((r) => r.corrente.wallSeconds),
      export: m((r) => r.corrente.exportSeconds),
      verify: m((r) => r.corrente.verifySeconds ?? 0),
      unverifiedWall: m((r) => r.unverified.wallSeconds),
      unverifiedExport: m((r) => r.unverified.exportSeconds),
    },
    ratios: {
      wallOverManual: rounds.map((r) => r.corrente.wallSeconds / r.manual.seconds),
      manualOverExport: rounds.map((r) => r.manual.seconds / r.corrente.exportSeconds),
      copyOverExport: rounds.map((r) => r.copy.seconds / r.corrente.exportSeconds),
      unverifiedWallOverManual: rounds.map((r) => r.unverified.wallSeconds / r.manual.seconds),
      manualOverUnverifiedExport: rounds.map((r) => r.manual.seconds / r.unverified.exportSeconds),
    },
    bytes: { corrente: m((r) => r.corrente.bytes), manual: m((r) => r.manual.bytes) },
    files: checks.reduce((worst, c) => (c.undersized.length > worst.undersized.length ? c : worst)),
    peakRssMb: peaks.length ? Math.max(...peaks) : null,
    load1: rounds.flatMap((r) => [r.copy.load1, r.manual.load1, r.corrente.load1, r.unverified.load1]),
    cpu: { copy: cpu((r) => r.copy.cpuSeconds), manual: cpu((r) => r.manual.cpuSeconds), corrente: cpu((r) => r.corrente.cpuSeconds), unverified: cpu((r) => r.unverified.cpuSeconds), cores },
  };
}

/**
 * What the CPU allows: the busy seconds of corrente's whole command spread over every core
 * is the least wall time it could take here, and that over the manual path's wall the
 * best "whole command / manual path" ratio any schedule could reach. Null without readings.
 */
export function cpuFloor(s: { cpu: Pick<EndToEndSummary['cpu'], 'corrente' | 'cores'>; median: Pick<EndToEndSummary['median'], 'manual'> }): { seconds: number; overManual: number } | null {
  if (s.cpu.corrente === null) return null;
  const seconds = s.cpu.corrente / s.cpu.cores;
  return { seconds, overManual: seconds / s.median.manual };
}

/** `machine CPU 9.1 s`, or nothing where it was not read. */
function cpuNote(seconds: number | null): string {
  return seconds === null ? '' : `; machine CPU ${seconds.toFixed(1)} s`;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** Five rows per table: COPY limit, manual path, corrente's whole command, the same unverified, its export. */
export function endToEndRows(spec: { table: string; short: string; rows: number }, rounds: RoundRecord[], parquetOptions: string, cores: number): Measurement[] {
  const s = summarize(spec, rounds, cores);
  const floor = cpuFloor(s);
  const { rows } = s;
  const n = `${rounds.length} round${rounds.length === 1 ? '' : 's'}`;
  const row = (label: string, seconds: number, extra: Partial<Measurement>): Measurement => ({
    key: 'end-to-end',
    label: `${s.short}: ${label}`,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    xLimit: s.median.copy / seconds,
    peakRssMb: null,
    outputBytes: null,
    factTableOnly: false,
    notes: [],
    details: { table: s.table },
    ...extra,
  });
  const sizeRatio = s.bytes.corrente / s.bytes.manual;
  const sizes = s.files.sizes.map((b) => mb(b)).join(', ');
  const last = rounds.at(-1)!.corrente;
  return [
    row('COPY limit', s.median.copy, { notes: [`psql COPY ${s.table} TO STDOUT > /dev/null; ${spread(rounds.map((r) => r.copy.seconds))} s over ${n}${cpuNote(s.cpu.copy)}`] }),
    row('manual path', s.median.manual, {
      peakRssMb: Math.max(...rounds.map((r) => r.manual.peakRssMb ?? 0)) || null,
      peakRssSource: 'the manual-path child (DuckDB default threads and memory limit)',
      outputBytes: s.bytes.manual,
      xDuckdbRef: 1,
      notes: [
        `COPY csv ${s.median.manualCopy.toFixed(2)} s (${mb(rounds[0]!.manual.csvBytes)} MB) + DuckDB read_csv -> Parquet ${s.median.manualDuckdb.toFixed(2)} s; ${spread(rounds.map((r) => r.manual.seconds))} s over ${n}; ${parquetOptions}; nothing verified${cpuNote(s.cpu.manual)}`,
      ],
    }),
    row('corrente command', s.median.wall, {
      peakRssMb: s.peakRssMb,
      peakRssSource: last.peakSource,
      outputBytes: s.bytes.corrente,
      xDuckdbRef: sizeRatio,
      notes: [
        `migrate -t ${s.table} --inline --wait --json, spawn to exit, verification ${last.verification}: ${spread(rounds.map((r) => r.corrente.wallSeconds))} s; ` +
          `export ${s.median.export.toFixed(2)} + verify ${s.median.verify.toFixed(2)} + the rest ${median(rounds.map((r) => r.corrente.wallSeconds - r.corrente.exportSeconds - (r.corrente.verifySeconds ?? 0))).toFixed(2)} s (medians)${cpuNote(s.cpu.corrente)}`,
        ...(floor
          ? [`CPU floor: ${s.cpu.corrente!.toFixed(1)} busy CPU s over ${s.cpu.cores} cores = ${floor.seconds.toFixed(2)} s, ${floor.overManual.toFixed(2)} x the manual path's wall at best`]
          : []),
      ],
      details: { table: s.table, endToEnd: s, command: last.command },
    }),
    row('corrente command, verification off', s.median.unverifiedWall, {
      notes: [
        `export.verify: false, the manual path's work: ${spread(rounds.map((r) => r.unverified.wallSeconds))} s, ` +
          `${median(s.ratios.unverifiedWallOverManual).toFixed(2)} x the manual path (rounds ${spread(s.ratios.unverifiedWallOverManual)}); ` +
          `export ${spread(rounds.map((r) => r.unverified.exportSeconds))} s${cpuNote(s.cpu.unverified)}`,
      ],
    }),
    row('corrente export', s.median.export, {
      peakRssMb: s.peakRssMb,
      peakRssSource: last.peakSource,
      outputBytes: s.bytes.corrente,
      xDuckdbRef: sizeRatio,
      notes: [
        `exportSeconds from --json: ${spread(rounds.map((r) => r.corrente.exportSeconds))} s`,
        `${s.files.files} file${s.files.files === 1 ? '' : 's'} in ${s.files.ranges} range${s.files.ranges === 1 ? '' : 's'}: ${sizes} MB`,
        ...last.stagesNote,
      ],
    }),
  ];
}

function summaries(ms: Measurement[]): EndToEndSummary[] {
  return ms.filter((m) => m.key === 'end-to-end' && !m.error && m.details.endToEnd).map((m) => m.details.endToEnd as EndToEndSummary);
}

/** PASS/FAIL lines per table of the end-to-end measurement (none when it did not run). */
export function endToEndTargets(ms: Measurement[]): TargetResult[] {
  // A table whose rounds did not finish has no figures: its targets cannot pass.
  const out: TargetResult[] = ms
    .filter((m) => m.key === 'end-to-end' && m.error)
    .map((m) => ({ name: m.label, status: 'FAIL', actual: null, threshold: 0, detail: `did not finish: ${m.error!.split('\n')[0]}` }));
  for (const s of summaries(ms)) {
    const load = `load ${spread(s.load1)}`;
    const ratio = (xs: number[]): string => `${median(xs).toFixed(2)} x (rounds ${spread(xs)})`;
    const { median: md } = s;
    const floor = cpuFloor(s);
    const floorNote = floor ? `; CPU floor ${floor.overManual.toFixed(2)} x (${s.cpu.corrente!.toFixed(1)} busy CPU s vs the manual path's ${s.cpu.manual?.toFixed(1) ?? '?'}, ${s.cpu.cores} cores)` : '';
    out.push(
      checkTarget(`${s.short}: whole command <= ${TARGETS.wallOverManual.toFixed(1)} x manual path`, TARGETS.wallOverManual, median(s.ratios.wallOverManual), true,
        `${ratio(s.ratios.wallOverManual)}: corrente wall ${md.wall.toFixed(2)} s vs manual ${md.manual.toFixed(2)} s (medians); ${load}${floorNote}; ` +
          `verification off ${ratio(s.ratios.unverifiedWallOverManual)}`),
      checkTarget(`${s.short}: export >= ${TARGETS.manualOverExport} x manual path speed`, TARGETS.manualOverExport, median(s.ratios.manualOverExport), false,
        `${ratio(s.ratios.manualOverExport)}: manual ${md.manual.toFixed(2)} s vs export ${md.export.toFixed(2)} s; ${load}; ` +
          `verification off ${ratio(s.ratios.manualOverUnverifiedExport)}`),
      checkTarget(`${s.short}: export >= ${TARGETS.copyOverExport} x COPY limit`, TARGETS.copyOverExport, median(s.ratios.copyOverExport), false,
        `${ratio(s.ratios.copyOverExport)}: COPY ${md.copy.toFixed(2)} s vs export ${md.export.toFixed(2)} s; ${load}`),
      checkTarget(`${s.short}: files >= ${TARGETS.minFileMb} MB except the last of a range`, 0, s.files.undersized.length, true,
        `${s.files.undersized.length} undersized of ${s.files.files} file(s) in ${s.files.ranges} range(s); sizes ${s.files.sizes.map(mb).join(', ')} MB`),
      checkTarget(`${s.short}: output <= ${TARGETS.bytesOverManual.toFixed(1)} x DuckDB's own Parquet`, TARGETS.bytesOverManual, s.bytes.corrente / s.bytes.manual, true,
        `${(s.bytes.corrente / s.bytes.manual).toFixed(3)} x (${mb(s.bytes.corrente)} vs ${mb(s.bytes.manual)} MB, same codec, level, version, row groups)`),
      checkTarget(`${s.short}: peak RSS of the export <= ${TARGETS.peakRssMb} MB`, TARGETS.peakRssMb, s.peakRssMb, true,
        s.peakRssMb === null ? 'a readable /proc' : `max ${s.peakRssMb.toFixed(0)} MB over ${s.rounds.length} run(s) (${s.rounds.map((r) => r.corrente.peakRssMb?.toFixed(0) ?? '?').join(', ')}), the migrate --inline process with its worker`),
    );
  }
  return out;
}
