/**
 * `end-to-end` (issue 14): per table, in rounds, four paths side by side on the same rows:
 *   - COPY limit: `psql -c "COPY <table> TO STDOUT" > /dev/null`;
 *   - the manual path: COPY as CSV to a file, then DuckDB `read_csv` with explicit types to
 *     Parquet with corrente's writer settings, nothing verified (bench/manual-path.ts);
 *   - corrente's whole command: `migrate -t <table> --inline --wait --json`, default config
 *     (verification on), spawn to exit, with the exportSeconds it prints;
 *   - the same with `export.verify: false`: the manual path's work, nothing verified, so
 *     the two compare like for like and the difference to the default is the verification.
 * The order rotates every round (ABCD, BCDA, ...), so load that drifts over the run hits
 * every path alike; the 1-minute load and the machine's busy CPU seconds are recorded for
 * each path. One untimed COPY per table first warms the cache.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import type { ExportConfig } from '../src/config/index.js';
import { duckdbColumnTypes } from './csv-column-types.js';
import { endToEndRows, type PathName, type RoundRecord } from './end-to-end-report.js';
import { runInlineMigrate } from './inline-migrate.js';
import { runManualPath } from './manual-path.js';
import type { CorrenteContext } from './measure-corrente.js';
import { timeCopy } from './measure-limit.js';
import { startCpuCount } from './machine-cpu.js';
import { kbToMb } from './rss.js';
import { killAllChildren } from './proc.js';
import { asFailure, log, type Measurement } from './types.js';
import { parquetCopyOptions } from './writer-settings.js';

export interface EndToEndTable {
  table: string;
  /** Short name for labels, e.g. `fact`. */
  short: string;
  rows: number;
}

export interface EndToEndOptions {
  rounds: number;
  /** The config file every corrente run uses (see writer-settings.ts). */
  configPath: string;
  /** The export settings under that file: the manual path writes with the same ones. */
  settings: ExportConfig;
}

const PATHS: readonly PathName[] = ['copy', 'manual', 'corrente', 'unverified'];

/** The paths in the order of round `r` (0-based): rotated by r. */
export function roundOrder(r: number): PathName[] {
  return PATHS.map((_, i) => PATHS[(i + r) % PATHS.length]!);
}

const cpuText = (seconds: number | null): string => seconds?.toFixed(1) ?? '?';

function load1(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

/** The config of the `unverified` path: `o.configPath`'s defaults, verification off. */
function writeUnverifiedConfig(o: EndToEndOptions): string {
  const path = join(dirname(o.configPath), 'corrente-unverified.yaml');
  writeFileSync(path, '# corrente benchmark: every setting at its default but verification\nexport:\n  verify: false\n');
  return path;
}

async function measureTable(ctx: CorrenteContext, spec: EndToEndTable, o: EndToEndOptions, unverifiedConfig: string): Promise<Measurement[]> {
  const columns = await duckdbColumnTypes(ctx.databaseUrl, spec.table);
  const options = parquetCopyOptions(o.settings);
  const warm = await timeCopy(ctx.databaseUrl, spec.table, `psql COPY ${spec.table} (warm-up)`);
  log(`end-to-end ${spec.short}: warm-up COPY ${warm.exit.seconds.toFixed(2)} s; ${o.rounds} rounds of COPY, manual path, corrente, corrente unverified`);
  const rounds: RoundRecord[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const order = roundOrder(r);
    const rec: Partial<RoundRecord> = { round: r + 1, order };
    for (const path of order) {
      const load = load1();
      const cpuSeconds = startCpuCount();
      if (path === 'copy') {
        const { exit } = await timeCopy(ctx.databaseUrl, spec.table);
        rec.copy = { seconds: exit.seconds, cpuSeconds: cpuSeconds(), load1: load };
      } else if (path === 'manual') {
        const m = await runManualPath(ctx.databaseUrl, spec.table, columns, options);
        if (m.rows !== spec.rows) throw new Error(`the manual path wrote ${m.rows} rows of ${spec.table}, expected ${spec.rows}`);
        rec.manual = { seconds: m.seconds, copySeconds: m.copySeconds, duckdbSeconds: m.duckdbSeconds, bytes: m.bytes, csvBytes: m.csvBytes, peakRssMb: kbToMb(m.peakKb), cpuSeconds: cpuSeconds(), load1: load };
      } else {
        const verified = path === 'corrente';
        const c = await runInlineMigrate(ctx, spec.table, verified ? o.configPath : unverifiedConfig);
        const cpu = cpuSeconds();
        const expected = verified ? 'passed' : 'skipped';
        if (c.rows !== spec.rows) throw new Error(`corrente exported ${c.rows} rows of ${spec.table}, expected ${spec.rows}`);
        if (c.verification !== expected) throw new Error(`corrente's verification of ${spec.table} is ${c.verification}, expected ${expected}`);
        const { peakKb, ...rest } = c;
        if (verified) rec.corrente = { ...rest, peakRssMb: kbToMb(peakKb), cpuSeconds: cpu, load1: load };
        else rec.unverified = { wallSeconds: c.wallSeconds, exportSeconds: c.exportSeconds, cpuSeconds: cpu, load1: load };
      }
    }
    const done = rec as RoundRecord;
    rounds.push(done);
    log(
      `end-to-end ${spec.short} round ${r + 1}: COPY ${done.copy.seconds.toFixed(2)} s, manual ${done.manual.seconds.toFixed(2)} s, ` +
        `corrente wall ${done.corrente.wallSeconds.toFixed(2)} s (export ${done.corrente.exportSeconds.toFixed(2)} s), load ${done.copy.load1}; ` +
        `unverified wall ${done.unverified.wallSeconds.toFixed(2)} s (export ${done.unverified.exportSeconds.toFixed(2)} s); ` +
        `machine CPU s: COPY ${cpuText(done.copy.cpuSeconds)}, manual ${cpuText(done.manual.cpuSeconds)}, corrente ${cpuText(done.corrente.cpuSeconds)}, ` +
        `unverified ${cpuText(done.unverified.cpuSeconds)}`,
    );
  }
  return endToEndRows(spec, rounds, options, os.cpus().length);
}

/** Every table in turn (all rounds of one table, then the next); a failed table does not stop the next. */
export async function measureEndToEnd(ctx: CorrenteContext, tables: readonly EndToEndTable[], o: EndToEndOptions): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const unverifiedConfig = writeUnverifiedConfig(o);
  for (const spec of tables) {
    try {
      out.push(...(await measureTable(ctx, spec, o, unverifiedConfig)));
    } catch (err) {
      out.push(asFailure('end-to-end', `${spec.short}: end-to-end`, err));
    }
    await killAllChildren();
  }
  return out;
}
