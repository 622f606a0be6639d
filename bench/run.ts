/**
 * The benchmark harness: `npm run bench -- [--rows N] [--json] [--only a,b]
 * [--database URL] [--workers 1,2]`. See bench/README.md.
 *
 * Seeds the sample tables to exactly N fact rows, runs every measurement on the same
 * data in one go, prints a markdown table and PASS/FAIL lines for the targets on stdout
 * (progress goes to stderr), and writes bench/results/latest.json.
 *
 * Exit code: 0 when every measurement ran (whatever the targets say), 1 when one failed,
 * 2 for bad flags, 130 when interrupted.
 */
import os from 'node:os';
import { ArgsError, parseBenchArgs, USAGE, type MeasurementName } from './args.js';
import { snapshotDist, type CodeSnapshot } from './code-snapshot.js';
import { ensureDataset, type Dataset } from './dataset.js';
import { deleteActivePrefixes } from './corrente-cli.js';
import { measureCorrenteLocal, measureCorrenteS3, measureScaling, type CorrenteContext } from './measure-corrente.js';
import { measureDuckdbRef } from './measure-duckdb-ref.js';
import { measureEndToEnd } from './measure-end-to-end.js';
import { measureLimit } from './measure-limit.js';
import { measureNaive } from './measure-naive.js';
import { measureApi } from './measure-api.js';
import { measureIncremental } from './measure-incremental.js';
import { measureRestore } from './measure-restore.js';
import { FACT_TABLE, WIDE_TABLE } from './paths.js';
import { killAllChildren } from './proc.js';
import { openRedis } from './redis.js';
import { buildResult, captureGit, computeRatios, evaluateTargets, markdownTable, targetLines, writeResult } from './report.js';
import { makeTempDir, removeAllTempDirs, removeAllTempDirsSync } from './temp.js';
import { asFailure, log, type Measurement } from './types.js';
import { ensureWideTable } from './wide-table.js';
import { exportSettings, writeDefaultConfig } from './writer-settings.js';

let interrupted = false;
function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) process.exit(130);
  interrupted = true;
  log(`${signal}: stopping child processes and removing temp dirs`);
  void killAllChildren(3_000)
    .catch(() => {})
    .then(() => deleteActivePrefixes())
    .catch(() => {})
    .finally(() => {
      removeAllTempDirsSync();
      process.exit(130);
    });
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const gitAtStart = captureGit();
  const t0 = performance.now();
  const measurements: Measurement[] = [];
  let dataset: Dataset | null = null;
  let code: CodeSnapshot | null = null;
  const redis = openRedis();
  try {
    log(`rows ${args.rows.toLocaleString('en-US')}; measurements: ${args.only.join(', ')}`);
    dataset = await ensureDataset(args.database, args.rows);
    const wide = args.only.includes('end-to-end') ? await ensureWideTable(args.database, args.wideRows) : null;
    if (wide) dataset.tables.push(wide);
    const needsCli = args.only.some((m) => m.startsWith('corrente') || m === 'scaling' || m === 'restore' || m === 'api' || m === 'end-to-end');
    code = needsCli ? snapshotDist() : null;
    if (code) log(`running corrente from a private copy of dist/ built ${code.builtAt} (hash ${code.hash})`);
    const ctx: CorrenteContext = { databaseUrl: args.database, redis, cliPath: code?.cliPath ?? '' };
    // The settings corrente runs with by default: the references write with the same ones.
    const configPath = writeDefaultConfig(makeTempDir('corrente-bench-config-'));
    const settings = exportSettings(configPath);
    const endToEndTables = [
      { table: FACT_TABLE, short: 'fact', rows: args.rows },
      { table: WIDE_TABLE, short: 'wide', rows: args.wideRows },
    ];
    const plan: Record<MeasurementName, () => Promise<Measurement[]>> = {
      limit: async () => [await measureLimit(args.database, args.rows)],
      'duckdb-ref': async () => [await measureDuckdbRef(args.database, args.rows, settings)],
      naive: async () => [await measureNaive(args.database, args.rows)],
      'corrente-local': async () => [await measureCorrenteLocal(ctx, false)],
      'corrente-local+verify': async () => [await measureCorrenteLocal(ctx, true)],
      'corrente-s3': async () => [await measureCorrenteS3(ctx)],
      'end-to-end': async () => measureEndToEnd(ctx, endToEndTables, { rounds: args.rounds, configPath, settings }),
      restore: async () => measureRestore(args.database, ctx.cliPath, redis, args.rows),
      api: async () => measureApi(args.database, ctx.cliPath, redis, args.rows),
      incremental: async () => measureIncremental(args.database),
      scaling: async () => {
        const out: Measurement[] = [];
        for (const w of args.workers) {
          try {
            out.push(await measureScaling(ctx, w, args.rows));
          } catch (err) {
            out.push(asFailure('scaling', `scaling ${w}w`, err));
          }
        }
        return out;
      },
    };
    for (const key of args.only) {
      const t = performance.now();
      try {
        const ms = await plan[key]();
        measurements.push(...ms);
        for (const m of ms) if (!m.error && m.key !== 'scaling') log(`${m.label}: ${Math.round(m.rowsPerSecond ?? 0).toLocaleString('en-US')} rows/s (${((performance.now() - t) / 1000).toFixed(1)} s)`);
      } catch (err) {
        measurements.push(asFailure(key, key, err));
      }
      await killAllChildren(); // nothing of one measurement may run into the next
    }
  } finally {
    await killAllChildren();
    await removeAllTempDirs();
    redis.disconnect();
  }

  computeRatios(measurements);
  const targets = evaluateTargets(measurements);
  const result = buildResult(startedAt, args, dataset, measurements, targets, gitAtStart, loadAtStart, code);
  const path = writeResult(result);
  const failures = measurements.filter((m) => m.error);

  process.stdout.write(`\n## corrente benchmark, ${args.rows.toLocaleString('en-US')} rows, ${startedAt.toISOString().slice(0, 10)}\n\n`);
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  process.stdout.write(`load average (1 / 5 / 15 min): ${load(loadAtStart)} at start, ${load(os.loadavg())} at the end; ${os.cpus().length} CPUs\n\n`);
  process.stdout.write(`${markdownTable(measurements)}\n\n`);
  process.stdout.write(`${targetLines(targets)}\n`);
  for (const f of failures) {
    process.stdout.write(`\nFAILED ${f.label}:\n${f.error}\n${f.repro ? `reproduce with:\n${f.repro}\n` : ''}`);
  }
  if (args.json) process.stdout.write(`\n${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${path} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
  return failures.length ? 1 : 0;
}


try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await killAllChildren().catch(() => {});
  removeAllTempDirsSync();
}
// A stray handle (socket in backoff) must not keep a finished run alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
