/**
 * Runs one SQL model: DuckDB executes its SELECT over the current runs of its inputs,
 * writes Parquet (export settings), checks the files against the writer's counts, runs the
 * data tests over the staged files, and publishes atomically (files, `_manifest.json`,
 * `_current.json`) only when no `error` test failed. Rows breaking a quarantine rule go to
 * `<layer>/_quarantine_<model>` instead, published with the same run id.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ExportConfig, TransformConfig } from '../config/index.js';
import {
  countParquet,
  describeQuery,
  duckType,
  latestRowsSql,
  logicalTypeOfDuck,
  openDuckSession,
  parquetRelation,
  pgTypeOfLogical,
  storedDuckType,
  writeQueryToParquet,
  type DuckSession,
  type QueryParquetOptions,
  type WrittenFile,
} from '../duckdb/index.js';
import { MANIFEST_FORMAT, partKey, publishManifest, runPrefix, stagedKey, type Lineage, type Manifest } from '../lake/index.js';
import { CorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { describeLogicalType, quoteIdent, quoteLiteral, type LogicalType, type TableRef } from '../shared/table-schema.js';
import { buildDataTests, locateOption, parseRelationshipTarget, renderSql, type DataTest, type ModelDef, type SingularTestDef, type TemplateCall } from '../transform/index.js';
import type { Layer } from './export-types.js';
import { sha256File } from './file-hash.js';
import { refreshLocalCatalogQuietly } from './lake-catalog.js';
import { currentRun, currentSourceRun, localFilesOf, localStateOf, modelTableRef, type InputDeps, type LakeInput } from './transform-inputs.js';
import { modelError } from './transform-errors.js';
import { makeWorkDir } from './work-dir.js';

/** What running a model needs (borrowed, not closed). */
export interface TransformDeps extends InputDeps {
  config: TransformConfig;
  /** Parquet writer settings shared with exports. */
  writer: Pick<ExportConfig, 'compression' | 'compressionLevel' | 'parquetVersion' | 'rowGroupRows'>;
  /** Staging and spill directory. */
  workDir: string;
  logger?: Logger;
}

/** The outcome of one data test. */
export interface TestOutcome {
  name: string;
  severity: 'error' | 'warn';
  file: string;
  failingRows: number;
  /** A few failing rows as JSON objects (text, exact). */
  sample: string[];
  /** Where all failing rows were kept (Parquet), when any failed. */
  audit?: string;
}

/** What happened to one model. */
export interface ModelOutcome {
  model: string;
  layer: 'silver' | 'gold';
  file: string;
  status: 'published' | 'failed' | 'skipped';
  runId: string;
  rows?: number;
  quarantined?: number;
  files?: number;
  bytes?: number;
  seconds?: number;
  tests: TestOutcome[];
  /** Whether `_current.json` now names this run (false: a newer snapshot was current). */
  pointerMoved?: boolean;
  /** One line for a failed or skipped model. */
  error?: string;
  errorCode?: string;
}

export interface RunModelRequest {
  def: ModelDef;
  /** `publish`: the SELECT reads files given to `corrente publish` (recorded in the lineage). @defaultValue 'model' */
  kind?: 'model' | 'publish';
  runId: string;
  singularTests: readonly SingularTestDef[];
}

/** The quarantine table of a model. */
export function quarantineTableRef(def: Pick<ModelDef, 'layer' | 'name'>): TableRef {
  return modelTableRef(def.layer, `_quarantine_${def.name}`);
}

/** As of when an input holds the source's rows: its last increment's snapshot, else its run's. */
function snapshotOf(input: LakeInput): string {
  return input.increments?.at(-1)?.snapshotTime ?? input.manifest.source.snapshotTime;
}

type InputKey = string;
const keyOfRef = (name: string): InputKey => `ref:${name}`;
const keyOfSource = (schema: string, table: string): InputKey => `source:${schema}.${table}`;

/** Every input the model and its tests read, resolved to a current run's local files. */
async function resolveInputs(deps: TransformDeps, req: RunModelRequest, models: ReadonlyMap<string, ModelDef>, signal?: AbortSignal): Promise<Map<InputKey, LakeInput>> {
  const { def } = req;
  const wanted = new Map<InputKey, { kind: 'ref'; name: string; file: string; line: number } | { kind: 'source'; schema: string; table: string; file: string; line: number }>();
  const addCalls = (calls: readonly TemplateCall[], file: string): void => {
    for (const c of calls) {
      if (c.kind === 'ref' && c.name !== def.name) wanted.set(keyOfRef(c.name), { kind: 'ref', name: c.name, file, line: c.line });
      if (c.kind === 'source') wanted.set(keyOfSource(c.schema, c.table), { kind: 'source', schema: c.schema, table: c.table, file, line: c.line });
    }
  };
  addCalls(def.calls, def.file);
  for (const t of req.singularTests) if (t.calls.some((c) => c.kind === 'ref' && c.name === def.name)) addCalls(t.calls, t.file);
  for (const opts of Object.values(def.options.columns)) {
    for (const t of opts.tests) {
      if (t.kind !== 'relationships') continue;
      const target = parseRelationshipTarget(t.to);
      const where = locateOption(def.optionsSource, t.to);
      if (target.kind === 'ref' && target.name !== def.name) wanted.set(keyOfRef(target.name), { ...target, ...where });
      if (target.kind === 'source') wanted.set(keyOfSource(target.schema, target.table), { ...target, ...where });
    }
  }
  const out = new Map<InputKey, LakeInput>();
  for (const [key, w] of wanted) {
    if (w.kind === 'source') {
      const found = await currentSourceRun(deps, { schema: w.schema, name: w.table }, signal);
      if (!found) throw missingSource(w.schema, w.table, w.file, w.line);
      out.set(key, await localStateOf(deps, found, signal));
    } else {
      const target = models.get(w.name);
      const layer = target?.layer ?? 'silver';
      const manifest = await currentRun(deps, layer, modelTableRef(layer, w.name), signal);
      if (!manifest) throw missingModelRun(w.name, target?.external ?? false, w.file, w.line);
      out.set(key, await localFilesOf(deps, layer, manifest, signal));
    }
  }
  return out;
}

/** The error for a `source` whose table was never exported. */
export function missingSource(schema: string, table: string, file: string, line: number): CorrenteError {
  return new CorrenteError('RUN_NOT_FOUND', `${file}:${line}: source ${schema}.${table} was never exported (no published run in the lake)`, {
    table: `${schema}.${table}`,
    hint: `Export it first: corrente migrate --tables ${schema}.${table} --wait`,
  });
}

/** The error for a `ref` to a model that has no published run. */
export function missingModelRun(name: string, external: boolean, file: string, line: number): CorrenteError {
  return new CorrenteError('RUN_NOT_FOUND', `${file}:${line}: ref ${name} has no published run yet`, {
    table: name,
    hint: external ? `Publish it first: corrente publish <files> --table <layer>.${name}` : `Build it first: corrente transform +${name} (or select it with this model)`,
  });
}

function varLiteral(v: string | number | boolean): string {
  return typeof v === 'string' ? quoteLiteral(v) : String(v);
}

interface OutputColumn {
  name: string;
  /** The type written (a HUGEINT sum is written as DECIMAL(38,0)). */
  duckType: string;
  type: LogicalType;
  /** Written through a CAST to `duckType`. */
  cast?: boolean;
}

/** Checks the output columns against the declared contract and the lake's types. */
function checkOutput(def: ModelDef, described: { name: string; type: string }[]): OutputColumn[] {
  const seen = new Set<string>();
  const out: OutputColumn[] = [];
  for (const c of described) {
    if (seen.has(c.name)) {
      throw new CorrenteError('MODEL_FAILED', `${def.file}: model ${def.name} returns two columns named ${c.name}`, { hint: 'Give each output column its own name with AS' });
    }
    seen.add(c.name);
    const stored = storedDuckType(c.type);
    const type = logicalTypeOfDuck(stored);
    if (!type) {
      throw new CorrenteError('MODEL_FAILED', `${def.file}: model ${def.name} column ${c.name} has DuckDB type ${c.type}, which the lake does not store exactly`, {
        column: c.name,
        hint: `Cast it in the SELECT, e.g. CAST(${quoteIdent(c.name)} AS BIGINT), CAST(... AS DECIMAL(38,s)) or CAST(... AS VARCHAR)`,
      });
    }
    out.push({ name: c.name, duckType: stored, type, ...(stored !== c.type ? { cast: true } : {}) });
  }
  const names = out.map((c) => c.name);
  for (const [name, opts] of Object.entries(def.options.columns)) {
    const where = locateOption(def.optionsSource, `${name}:`);
    const col = out.find((c) => c.name === name);
    if (!col) {
      throw new CorrenteError('MODEL_FAILED', `${where.file}:${where.line}: column ${name} is declared for model ${def.name} but its SELECT does not return it`, {
        column: name,
        hint: `Columns returned: ${names.join(', ')}. Fix the declaration or the SELECT`,
      });
    }
    if (opts.type && normaliseType(opts.type) !== normaliseType(col.duckType)) {
      throw new CorrenteError('MODEL_FAILED', `${where.file}:${where.line}: column ${name} of model ${def.name} is declared ${opts.type} but the SELECT returns ${col.duckType}`, {
        column: name,
        hint: `Cast it in the SELECT (CAST(... AS ${opts.type})) or change the declared type`,
      });
    }
  }
  const named = [...(def.options.unique_key ?? []), ...def.options.tests.flatMap((t) => (t.kind === 'unique' ? t.columns : []))];
  for (const col of named) {
    if (names.includes(col)) continue;
    const where = locateOption(def.optionsSource, col);
    throw new CorrenteError('MODEL_FAILED', `${where.file}:${where.line}: unknown column ${col} in the options of model ${def.name}`, {
      column: col,
      hint: `Columns returned: ${names.join(', ')}`,
    });
  }
  return out;
}

/** DuckDB type names compared without case and spaces (`DECIMAL(14, 3)` = `decimal(14,3)`). */
export function normaliseType(t: string): string {
  const s = t.toUpperCase().replace(/\s+/g, '');
  const aliases: Record<string, string> = { INT: 'INTEGER', INT4: 'INTEGER', INT8: 'BIGINT', INT2: 'SMALLINT', TEXT: 'VARCHAR', STRING: 'VARCHAR', BOOL: 'BOOLEAN', FLOAT8: 'DOUBLE', TIMESTAMPTZ: 'TIMESTAMPWITHTIMEZONE', NUMERIC: 'DECIMAL' };
  return aliases[s] ?? s.replace(/^NUMERIC/, 'DECIMAL');
}

/**
 * One scan of written files (`relation`): checks them against the writer's counts and
 * counts the rows meeting each of `filters`. When the scan fails, the row-level tests in
 * `rowTests` run one by one first, so that a broken test is named in the error.
 */
async function readBack(
  duck: DuckSession,
  relation: string,
  files: WrittenFile[],
  columns: readonly string[],
  filters: readonly string[],
  rowTests: readonly DataTest[],
  modelName: string,
  signal?: AbortSignal,
): Promise<{ problems: string[]; matching: number[] }> {
  let back: Awaited<ReturnType<typeof countParquet>>;
  try {
    back = await countParquet(duck, relation, columns, filters, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    for (const t of rowTests) await countFailing(duck, t, modelName, signal);
    throw err;
  }
  const rows = files.reduce((s, f) => s + f.rows, 0);
  const problems: string[] = [];
  if (back.rows !== rows) problems.push(`rows: query ${rows}, files ${back.rows}`);
  for (const c of columns) {
    const expected = rows - files.reduce((s, f) => s + (f.nulls[c] ?? 0), 0);
    if (back.nonNull[c] !== expected) problems.push(`${c} non-null: query ${expected}, files ${back.nonNull[c]}`);
  }
  return { problems, matching: back.matching };
}

/** The failing rows of one test, counted on their own; a broken test is named in the error. */
async function countFailing(duck: DuckSession, t: DataTest, modelName: string, signal?: AbortSignal): Promise<number> {
  try {
    const [r] = await duck.rows(t.countSql ?? `SELECT count(*)::BIGINT AS n FROM (${t.sql}) AS t`, signal);
    return Number(r?.n ?? 0);
  } catch (err) {
    if (signal?.aborted) throw err;
    const e = modelError(err, `test ${t.name} of model ${modelName}`, t.file, 0);
    throw new CorrenteError('MODEL_FAILED', e.message.replace(/ LINE \d+:.*$/, ''), { cause: err, hint: 'Fix the test: its SQL or the column it names; nothing was published' });
  }
}

const slug = (name: string): string => name.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'test';

/**
 * Runs the data tests over `__out` (those in `counted` were already counted in the
 * read-back scan), keeping failing rows in `auditDir`.
 */
async function runTests(
  duck: DuckSession,
  tests: DataTest[],
  counted: ReadonlyMap<DataTest, number>,
  auditDir: string,
  sampleRows: number,
  modelName: string,
  signal?: AbortSignal,
): Promise<(TestOutcome & { auditPath?: string })[]> {
  const out: (TestOutcome & { auditPath?: string })[] = [];
  for (const [i, t] of tests.entries()) {
    const failing = counted.get(t) ?? (await countFailing(duck, t, modelName, signal));
    const outcome: TestOutcome & { auditPath?: string } = { name: t.name, severity: t.severity, file: t.file, failingRows: failing, sample: [] };
    if (failing > 0) {
      const rows = await duck.rows(`SELECT to_json(t)::VARCHAR AS j FROM (${t.sql}) AS t LIMIT ${sampleRows}`, signal);
      outcome.sample = rows.map((r) => String(r.j));
      const path = join(auditDir, `${String(i).padStart(2, '0')}-${slug(t.name)}.parquet`);
      await duck.run(`COPY (${t.sql}) TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`, signal);
      outcome.auditPath = path;
    }
    out.push(outcome);
  }
  return out;
}

interface StagedOutput {
  table: TableRef;
  files: WrittenFile[];
  columns: OutputColumn[];
}

/** Uploads a staged output's files as `part-NNNNN.parquet` and returns the manifest files. */
async function uploadFiles(deps: TransformDeps, bucket: string, out: StagedOutput, runId: string, signal?: AbortSignal): Promise<Manifest['files']> {
  const files: Manifest['files'] = [];
  for (const [i, f] of out.files.entries()) {
    const key = partKey(out.table, runId, i);
    // Hashing reads the file while the store copies it (both from the page cache).
    const [sha256] = await Promise.all([sha256File(f.path), deps.store.putFile(bucket, key, f.path, { signal })]);
    const { size } = await stat(f.path);
    files.push({ key, uri: deps.store.uri(bucket, key), rows: f.rows, bytes: size, sha256 });
  }
  return files;
}

function buildManifest(
  def: ModelDef,
  bucket: string,
  runId: string,
  out: StagedOutput,
  files: Manifest['files'],
  lineage: Lineage,
  times: { startedAt: string; snapshotTime: string; seconds: number; verifySeconds: number },
  primaryKey: string[],
): Manifest {
  const rows = files.reduce((s, f) => s + f.rows, 0);
  return {
    format: MANIFEST_FORMAT,
    runId,
    table: out.table,
    layer: def.layer,
    bucket,
    source: { database: `corrente ${lineage.kind === 'publish' ? 'publish' : 'transform'}: ${def.file}`, snapshotTime: times.snapshotTime, estimatedRows: rows },
    columns: out.columns.map((c) => ({
      name: c.name,
      pgType: pgTypeOfLogical(c.type),
      nullable: def.options.columns[c.name]?.nullable ?? true,
      parquetType: describeLogicalType(c.type),
      type: c.type,
    })),
    primaryKey,
    files,
    totals: { rows, bytes: files.reduce((s, f) => s + f.bytes, 0), files: files.length },
    textChecksum: 'auto',
    verification: { status: 'passed', checkedAt: new Date().toISOString(), seconds: times.verifySeconds, mismatches: [] },
    lineage,
    timings: { startedAt: times.startedAt, exportedAt: new Date().toISOString(), exportSeconds: times.seconds },
  };
}

/**
 * Runs, tests and (when no `error` test fails) publishes one model. A failing `error` test
 * is an outcome (`status: failed`, the previous run stays current), not a throw; the
 * staged files, `_staged.json` and the audit files stay in the run directory for inspection.
 * @throws CorrenteError for a model that cannot run (`MODEL_FAILED`, naming file and line),
 *   a missing input (`RUN_NOT_FOUND`) or storage failures.
 */
export async function runModel(deps: TransformDeps, req: RunModelRequest, models: ReadonlyMap<string, ModelDef>, signal?: AbortSignal): Promise<ModelOutcome> {
  const { def, runId } = req;
  const logger = (deps.logger ?? noopLogger).child({ model: def.name, runId });
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const bucket = deps.buckets[def.layer as Layer];
  const table = modelTableRef(def.layer, def.name);
  const inputs = await resolveInputs(deps, req, models, signal);
  const dir = await makeWorkDir(deps.workDir, `model-${def.name}`);
  const duck = await openDuckSession({ memoryMb: deps.config.memoryMb, threads: deps.config.threads, tempDir: join(dir, 'spill') });
  try {
    // Output order is not part of a model's contract; not keeping it lets DuckDB stream and spill more.
    await duck.run('SET preserve_insertion_order = false');
    const viewOf = new Map<InputKey, string>();
    const shown = new Map<string, string>();
    const rename = (text: string): string => text.replace(/__input_\d+/g, (v) => shown.get(v) ?? v);
    for (const [i, [key, input]] of [...inputs].entries()) {
      const view = `__input_${i}`;
      shown.set(view, key.startsWith('ref:') ? `ref('${key.slice(4)}')` : `source('${input.table.schema}', '${input.table.name}')`);
      const empty = input.manifest.columns.map((c) => ({ name: c.name, duckType: duckType(c.type) }));
      // An incrementally exported source is read as it is now: latest row per key, deletions removed.
      const body = input.increments
        ? latestRowsSql([{ files: input.paths }, ...input.increments.map((i) => ({ files: i.paths, tombstones: i.tombstones }))], input.manifest.primaryKey)
        : `SELECT * FROM ${parquetRelation(input.paths, empty)}`;
      await duck.run(`CREATE TEMP VIEW ${view} AS ${body}`, signal);
      viewOf.set(key, view);
    }
    const resolveRelation = (t: { kind: 'ref'; name: string } | { kind: 'source'; schema: string; table: string }): string =>
      viewOf.get(t.kind === 'ref' ? keyOfRef(t.name) : keyOfSource(t.schema, t.table)) ?? '__out';
    const sql = renderSql(def.sql, def.calls, (c) => (c.kind === 'var' ? varLiteral(def.options.vars[c.name]!) : resolveRelation(c)));
    // Same line as the SQL's first line, so DuckDB's LINE n is the file's line n.
    await duck.run(`CREATE TEMP VIEW __model AS ${sql}`, signal).catch((err: unknown) => {
      throw modelError(err, `model ${def.name}`, def.file, deps.config.memoryMb, rename);
    });
    const columns = checkOutput(def, await describeQuery(duck, '__model', signal));
    const names = columns.map((c) => c.name);
    // Columns stored in a wider exact type are cast once, in a view every later step reads.
    const storedSelect = columns.map((c) => (c.cast ? `CAST(${quoteIdent(c.name)} AS ${c.duckType}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
    await duck.run(`CREATE TEMP VIEW __stored AS SELECT ${storedSelect} FROM __model`, signal);
    const rules = def.options.quarantine;
    for (const r of rules) {
      await duck.run(`SELECT (${r.sql}) IS TRUE FROM __stored LIMIT 0`, signal).catch((err: unknown) => {
        const where = locateOption(def.optionsSource, r.sql);
        throw modelError(err, `quarantine rule ${r.name} of model ${def.name}`, `${where.file}:${where.line}`, deps.config.memoryMb, rename);
      });
    }
    const writer = { ...deps.writer, fileRows: deps.config.fileRows };
    const write = async (select: string, sub: string, cols: string[]): Promise<WrittenFile[]> => {
      const outDir = join(dir, sub);
      await mkdir(outDir, { recursive: true });
      return writeOrExplain(duck, select, outDir, cols, writer, def, deps.config.memoryMb, rename, signal);
    };
    const ruleCol = '_quarantine_rule';
    if (rules.length > 0 && names.includes(ruleCol)) {
      throw new CorrenteError('MODEL_FAILED', `${def.file}: model ${def.name} returns a column named ${ruleCol}, which its quarantine adds`, { hint: 'Rename that column' });
    }
    // The broken rules of a row ('' when none), and whether it is kept.
    const broken = `concat_ws(',', ${rules.map((r) => `CASE WHEN (${r.sql}) IS NOT TRUE THEN ${quoteLiteral(r.name)} END`).join(', ')})`;
    const kept = rules.map((r) => `(${r.sql}) IS TRUE`).join(' AND ');
    // The query runs once, straight into the output files, quarantined rows included: most
    // runs quarantine nothing, and the read-back scan that checks the files also counts the
    // rows to divert. Only when there are some are kept and quarantined rows split from
    // those files (a Parquet read instead of running the model twice). The filter on top is
    // always true: without one, DuckDB plans `QUALIFY row_number() ... = 1` as a hash
    // aggregate and join that ran out of memory over 5M rows at 256 MB (measured), where the
    // window it keeps under a filter spills.
    let mainFiles = await write(rules.length === 0 ? 'SELECT * FROM __stored' : `SELECT * FROM __stored WHERE ${broken} IS NOT NULL`, 'out', names);
    const useOut = (files: WrittenFile[]): Promise<void> => duck.run(`CREATE OR REPLACE TEMP VIEW __out AS SELECT * FROM ${parquetRelation(files.map((f) => f.path), columns)}`, signal);
    await useOut(mainFiles);
    const tests = buildDataTests(def, '__out', resolveRelation, req.singularTests);
    // Tests of single rows are counted in the read-back scan instead of one scan each.
    const rowTests = tests.filter((t) => t.rowFilter !== undefined);
    const tv = performance.now();
    const verify = (problems: string[], what = ''): void => {
      if (problems.length === 0) return;
      throw new CorrenteError('VERIFY_MISMATCH', `${def.file}: the files written for model ${def.name} do not match its query: ${problems.slice(0, 3).map((p) => what + p).join('; ')}`, {
        hint: 'Nothing was published; re-run. If it repeats, report it',
      });
    };
    const divert = rules.length > 0 ? [`NOT (${kept})`] : [];
    let back = await readBack(duck, '__out', mainFiles, names, [...divert, ...rowTests.map((t) => t.rowFilter!)], rowTests, def.name, signal);
    verify(back.problems);
    let rowCounts = back.matching.slice(divert.length);
    let quarantine: StagedOutput | undefined;
    if (rules.length > 0) {
      const qColumns: OutputColumn[] = [...columns, { name: ruleCol, duckType: 'VARCHAR', type: { kind: 'text' } }];
      const qNames = qColumns.map((c) => c.name);
      const all = parquetRelation(mainFiles.map((f) => f.path), columns);
      let qFiles: WrittenFile[];
      if (back.matching[0] === 0) {
        // Nothing diverted: the quarantine is one empty file with its columns.
        qFiles = await write(`SELECT *, NULL::VARCHAR AS ${ruleCol} FROM ${all} LIMIT 0`, 'quarantine', qNames);
      } else {
        const staged = mainFiles;
        mainFiles = await write(`SELECT * FROM ${all} WHERE ${kept}`, 'kept', names);
        qFiles = await write(`SELECT *, ${broken} AS ${ruleCol} FROM ${all} WHERE NOT (${kept})`, 'quarantine', qNames);
        const total = (files: WrittenFile[]): number => files.reduce((n, f) => n + f.rows, 0);
        if (total(staged) !== total(mainFiles) + total(qFiles)) verify([`rows: query ${total(staged)}, kept ${total(mainFiles)} + quarantined ${total(qFiles)}`]);
        await useOut(mainFiles);
        back = await readBack(duck, '__out', mainFiles, names, rowTests.map((t) => t.rowFilter!), rowTests, def.name, signal);
        verify(back.problems);
        rowCounts = back.matching;
      }
      verify((await readBack(duck, parquetRelation(qFiles.map((f) => f.path)), qFiles, qNames, [], [], def.name, signal)).problems, 'quarantine ');
      quarantine = { table: quarantineTableRef(def), files: qFiles, columns: qColumns };
    }
    const verifySeconds = (performance.now() - tv) / 1000;
    const auditDir = join(dir, 'audit');
    await mkdir(auditDir, { recursive: true });
    const outcomes = await runTests(duck, tests, new Map(rowTests.map((t, i) => [t, rowCounts[i]!])), auditDir, deps.config.sampleRows, def.name, signal);
    const blocked = outcomes.some((o) => o.severity === 'error' && o.failingRows > 0);

    await deps.store.ensureBucket(bucket, { signal });
    const main: StagedOutput = { table, files: mainFiles, columns };
    const files = await uploadFiles(deps, bucket, main, runId, signal);
    const reported: TestOutcome[] = [];
    for (const o of outcomes) {
      const { auditPath, ...rest } = o;
      if (auditPath) {
        const key = `${runPrefix(table, runId)}_audit/${basename(auditPath)}`;
        await deps.store.putFile(bucket, key, auditPath, { signal });
        rest.audit = deps.store.uri(bucket, key);
      }
      reported.push(rest);
    }
    const inputList = [...inputs.values()];
    const lineage: Lineage = {
      kind: req.kind ?? 'model',
      model: def.name,
      file: def.file,
      sqlHash: def.sqlHash,
      inputs: inputList.map((i) => ({
        layer: i.layer,
        table: i.table,
        runId: i.manifest.runId,
        snapshotTime: snapshotOf(i),
        ...(i.increments ? { increments: i.increments.map((inc) => inc.runId) } : {}),
      })),
      tests: reported.map((o) => ({ name: o.name, severity: o.severity, failingRows: o.failingRows })),
    };
    // A model's data is as of its oldest input: it never claims to be fresher than what it
    // read. Published files are as of their publication.
    const snapshotTime = req.kind === 'publish' ? startedAt : (inputList.map(snapshotOf).sort()[0] ?? startedAt);
    const times = { startedAt, snapshotTime, seconds: (performance.now() - t0) / 1000, verifySeconds };
    const manifest = buildManifest(def, bucket, runId, main, files, lineage, times, def.options.unique_key ?? []);
    const rows = manifest.totals.rows;
    const base = { model: def.name, layer: def.layer, file: def.file, runId, rows, files: files.length, bytes: manifest.totals.bytes, tests: reported };
    if (blocked) {
      manifest.verification.status = 'failed';
      manifest.verification.mismatches = reported.filter((o) => o.severity === 'error' && o.failingRows > 0).map((o) => `${o.name}: ${o.failingRows} failing row(s)`);
      await deps.store.putBytes(bucket, stagedKey(table, runId), JSON.stringify(manifest, null, 2), { signal });
      const failedTests = reported.filter((o) => o.severity === 'error' && o.failingRows > 0);
      const first = failedTests[0]!;
      logger.info({ tests: failedTests.map((t) => t.name) }, 'data tests failed; not published');
      return {
        ...base,
        status: 'failed',
        seconds: (performance.now() - t0) / 1000,
        errorCode: 'DATA_TEST_FAILED',
        error: `${first.file}: model ${def.name}: test ${first.name} failed with ${first.failingRows} row(s)${failedTests.length > 1 ? ` (+${failedTests.length - 1} more failed test(s))` : ''}; not published, run ${runId} kept for inspection, the previous run stays current`,
      };
    }
    let quarantined: number | undefined;
    if (quarantine) {
      const qFiles = await uploadFiles(deps, bucket, quarantine, runId, signal);
      const qManifest = buildManifest(def, bucket, runId, quarantine, qFiles, { ...lineage, tests: [] }, times, []);
      qManifest.timings.publishedAt = new Date().toISOString();
      await publishManifest(deps.store, qManifest, signal);
      quarantined = qManifest.totals.rows;
    }
    manifest.timings.publishedAt = new Date().toISOString();
    const published = await publishManifest(deps.store, manifest, signal);
    if (published.pointerMoved) await refreshLocalCatalogQuietly(deps.store, deps.buckets, logger);
    logger.info({ rows, quarantined, pointerMoved: published.pointerMoved }, 'model published');
    return { ...base, status: 'published', ...(quarantined !== undefined ? { quarantined } : {}), pointerMoved: published.pointerMoved, seconds: (performance.now() - t0) / 1000 };
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeOrExplain(
  duck: DuckSession,
  select: string,
  dir: string,
  cols: string[],
  writer: QueryParquetOptions,
  def: ModelDef,
  memoryMb: number,
  rename: (text: string) => string,
  signal?: AbortSignal,
): Promise<WrittenFile[]> {
  try {
    return await writeQueryToParquet(duck, select, dir, cols, writer, signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    // Errors raised while running (not binding) carry no LINE: name the model and file.
    throw modelError(err, `model ${def.name}`, def.file, memoryMb, rename);
  }
}
