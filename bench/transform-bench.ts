/**
 * Transform benchmark: `npm run bench:transform -- [--database URL] [--memory-mb 256]
 * [--runs 3] [--lake DIR]` (`--lake DIR`: build the lake there once and keep it, to
 * re-measure without exporting again). Exports the sample tables as seeded (this script never reseeds) into a
 * temp local lake, builds the shipped models, then
 * times two models, each in a fresh child process for its peak RSS:
 *   - corrente: `runTransforms` of the silver `demand_daily` model, and of the mart
 *     `demand_vs_forecast` (write, verify, tests, publish);
 *   - DuckDB alone: the same rendered SELECT (with the model's quarantine rules as a WHERE)
 *     over the same input files, `COPY ... TO` one Parquet directory with the same writer
 *     settings, memory limit and threads.
 * Each side runs `--runs` times, alternating. Prints a markdown table (median and range of
 * seconds and CPU seconds, peak RSS, output bytes, overhead, load) on stdout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { duckType, openDuckSession, parquetRelation, writeQueryToParquet } from '../src/duckdb/index.js';
import { SAMPLE_TABLES } from '../src/demo/index.js';
import { createPgPool } from '../src/postgres/index.js';
import { createTransformDeps, currentRun, currentSourceRun, exportTable, localFilesOf, modelTableRef, planTransform, runTransforms, verifyAndPublish } from '../src/pipeline/index.js';
import { LocalDirStore } from '../src/storage/index.js';
import { renderSql, shippedTransformsDir } from '../src/transform/index.js';

const SELF = fileURLToPath(import.meta.url);
const MODELS = ['demand_daily', 'demand_vs_forecast'] as const;

interface Measured {
  seconds: number;
  cpuSeconds: number;
  rssMb: number;
  bytes: number;
  /** The 1-minute load average when the run ended. */
  load: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** `median (min-max)`, in seconds. */
function spread(xs: number[]): string {
  return `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

function config(lake: string, memoryMb: number) {
  return loadConfig({ env: {}, file: undefined, overrides: { storage: { lakeDir: lake }, transform: { memoryMb, dir: shippedTransformsDir()! } } });
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.parquet')).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
}

/** Child: one measurement, printed as JSON. */
async function child(mode: 'corrente' | 'duckdb', lake: string, model: string, memoryMb: number): Promise<void> {
  const cfg = config(lake, memoryMb);
  const store = new LocalDirStore(lake);
  const deps = createTransformDeps(store, cfg);
  const plan = planTransform(cfg.transform.dir, [model]);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let bytes = 0;
  if (mode === 'corrente') {
    // fullRefresh: an unchanged model would otherwise be reported up to date, not rebuilt.
    const r = await runTransforms(deps, plan, { runId: `transform-20261129T090000Z-${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, '0')}`, fullRefresh: true });
    if (!r.ok) throw new Error(r.models[0]!.error);
    bytes = r.models[0]!.bytes ?? 0;
  } else {
    const def = plan.graph.project.models.get(model)!;
    const out = mkdtempSync(join(tmpdir(), 'corrente-bench-duck-'));
    const duck = await openDuckSession({ memoryMb, threads: cfg.transform.threads, tempDir: join(out, 'spill') });
    try {
      await duck.run('SET preserve_insertion_order = false');
      const views = new Map<string, string>();
      let i = 0;
      for (const c of def.calls) {
        if (c.kind === 'var') continue;
        const key = c.kind === 'ref' ? c.name : `${c.schema}.${c.table}`;
        if (views.has(key)) continue;
        const found = c.kind === 'ref' ? { layer: plan.graph.project.models.get(c.name)!.layer, manifest: (await currentRun(deps, plan.graph.project.models.get(c.name)!.layer, modelTableRef(plan.graph.project.models.get(c.name)!.layer, c.name)))! } : (await currentSourceRun(deps, { schema: c.schema, name: c.table }))!;
        const input = await localFilesOf(deps, found.layer, found.manifest);
        const view = `in_${i++}`;
        await duck.run(`CREATE VIEW ${view} AS SELECT * FROM ${parquetRelation(input.paths, found.manifest.columns.map((col) => ({ name: col.name, duckType: duckType(col.type) })))}`);
        views.set(key, view);
      }
      const sql = renderSql(def.sql, def.calls, (c) => (c.kind === 'var' ? String(def.options.vars[c.name]) : views.get(c.kind === 'ref' ? c.name : `${c.schema}.${c.table}`)!));
      // The rows corrente publishes: the model's quarantine rules applied (its quarantine output is not written here).
      const rules = def.options.quarantine.map((r) => `(${r.sql}) IS TRUE`);
      const select = rules.length > 0 ? `SELECT * FROM (${sql}) WHERE ${rules.join(' AND ')}` : sql;
      await writeQueryToParquet(duck, select, join(out, 'out'), [], { ...cfg.export, fileRows: cfg.transform.fileRows });
      bytes = dirBytes(join(out, 'out'));
    } finally {
      duck.close();
      rmSync(out, { recursive: true, force: true });
    }
  }
  const cpu = process.cpuUsage(cpu0);
  // CPU seconds (every thread, DuckDB's included) vary less than wall seconds on a shared machine.
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMb: process.resourceUsage().maxRSS / 1024, bytes }));
  await store.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as 'corrente' | 'duckdb', process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
    return;
  }
  const database = arg('database', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const memoryMb = Number(arg('memory-mb', '256'));
  const runs = Number(arg('runs', '3'));
  const keep = arg('lake', '');
  const lake = keep || mkdtempSync(join(tmpdir(), 'corrente-bench-lake-'));
  try {
    const cfg = config(lake, memoryMb);
    if (!existsSync(join(lake, 'gold'))) {
    const store = new LocalDirStore(lake);
    const pool = createPgPool({ url: database, connectTimeoutMs: 10_000 });
    try {
      const t0 = performance.now();
      for (const table of SAMPLE_TABLES) {
        const o = await exportTable({ pool, postgresUrl: database, store, buckets: cfg.storage.buckets, config: { ...cfg.export, chunkMb: 1_000_000 } }, { runId: 'bench-export', table, layer: 'bronze' });
        if (o.kind !== 'staged') throw new Error('expected one range');
        await verifyAndPublish({ store, config: cfg.export }, { bucket: 'bronze', table, runId: 'bench-export' });
      }
      process.stderr.write(`exported the sample tables in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      const all = await runTransforms(createTransformDeps(store, cfg), planTransform(cfg.transform.dir), { runId: 'transform-20261129T080000Z-0000' });
      if (!all.ok) throw new Error(all.models.find((m) => m.error)?.error ?? 'models failed');
      process.stderr.write(`built every model once in ${all.seconds.toFixed(1)} s (${all.models.map((m) => `${m.model} ${m.rows}`).join(', ')})\n`);
    } finally {
      await pool.end();
      await store.close();
    }
    }
    const rows: string[] = [
      '| model | DuckDB alone s | corrente s | overhead (of medians) | DuckDB CPU s | corrente CPU s | DuckDB peak RSS | corrente peak RSS | DuckDB bytes | corrente bytes | load (1 min) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const model of MODELS) {
      const run = (mode: string): Measured => {
        const r = spawnSync(process.execPath, [SELF, '--child', mode, lake, model, String(memoryMb)], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`${mode} ${model}: ${r.stderr}`);
        return { ...(JSON.parse(r.stdout) as Omit<Measured, 'load'>), load: loadavg()[0]! };
      };
      // Alternating, paired runs: the machine is shared.
      const d: Measured[] = [];
      const c: Measured[] = [];
      for (let i = 0; i < runs; i++) {
        d.push(run('duckdb'));
        c.push(run('corrente'));
      }
      const ds = median(d.map((m) => m.seconds));
      const cs = median(c.map((m) => m.seconds));
      const loads = [...d, ...c].map((m) => m.load);
      rows.push(
        `| ${model} | ${spread(d.map((m) => m.seconds))} | ${spread(c.map((m) => m.seconds))} | ${(((cs - ds) / ds) * 100).toFixed(0)}% | ${spread(d.map((m) => m.cpuSeconds))} | ${spread(c.map((m) => m.cpuSeconds))} | ` +
          `${Math.max(...d.map((m) => m.rssMb)).toFixed(0)} MB | ${Math.max(...c.map((m) => m.rssMb)).toFixed(0)} MB | ${(d[0]!.bytes / 1e6).toFixed(1)} MB | ${(c[0]!.bytes / 1e6).toFixed(1)} MB | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} |`,
      );
    }
    process.stdout.write(`transform.memoryMb ${memoryMb}, threads ${cfg.transform.threads}, ${runs} alternating runs each (median, min-max), git ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}\n${rows.join('\n')}\n`);
  } finally {
    if (!keep) rmSync(lake, { recursive: true, force: true });
  }
}

await main();
