/**
 * `corrente publish`: files made outside corrente (the ML pipeline's forecasts) become a
 * run of a silver or gold table, with the same checks, tests and atomic publish as a model.
 * The contract is the model's declared columns (`transforms/<layer>/<name>.sql` or an
 * external `.yml`), else the current run's columns; a missing column, a type change or a
 * NULL in a NOT NULL column is refused before anything is published.
 */
import { existsSync } from 'node:fs';
import { duckType, describeQuery, openDuckSession, parquetRelation } from '../duckdb/index.js';
import { CorrenteError } from '../shared/errors.js';
import { quoteIdent, quoteLiteral, type TableRef } from '../shared/table-schema.js';
import { buildModelGraph, closest, loadTransformProject, modelOptionsSchema, singularTestsOf, type ModelDef, type ModelGraph } from '../transform/index.js';
import { currentRun } from './transform-inputs.js';
import { normaliseType, runModel, type ModelOutcome, type TransformDeps } from './transform-model.js';

export const PUBLISH_FORMATS = ['parquet', 'csv'] as const;
export type PublishFormat = (typeof PUBLISH_FORMATS)[number];

export interface PublishFilesRequest {
  /** Local files, all of one format. */
  files: string[];
  /** `silver.<name>` or `gold.<name>`: the schema is the layer. */
  table: TableRef;
  format: PublishFormat;
  /** Key columns (unique, recorded as the primary key); default: the contract's. */
  key?: string[];
  runId: string;
  /** Transforms directory holding the table's contract, when it has one there. */
  transformsDir?: string;
}

export interface PublishFilesResult extends ModelOutcome {
  /** Where the contract came from. */
  contract: 'model' | 'previous-run' | 'none';
}

function relationSql(files: readonly string[], format: PublishFormat): string {
  if (format === 'parquet') return parquetRelation(files).replace('hive_partitioning = false', 'hive_partitioning = false, union_by_name = true');
  // Every CSV value is read as text and cast to the contract's type, so nothing is guessed.
  return `read_csv([${files.map(quoteLiteral).join(', ')}], header = true, all_varchar = true, union_by_name = true)`;
}

/** The contract: the model's options, else the current run's columns, else none. */
async function contractFor(deps: TransformDeps, req: PublishFilesRequest, layer: 'silver' | 'gold'): Promise<{ def: ModelDef; graph?: ModelGraph; source: PublishFilesResult['contract'] }> {
  const file = req.files.length === 1 ? req.files[0]! : `${req.files[0]} (+${req.files.length - 1} files)`;
  const base = { name: req.table.name, layer, file, sql: '', calls: [], sqlHash: '', external: true };
  if (req.transformsDir && existsSync(req.transformsDir)) {
    const graph = buildModelGraph(loadTransformProject(req.transformsDir));
    const model = graph.project.models.get(req.table.name);
    if (model && model.layer === layer) {
      const options = req.key ? { ...model.options, unique_key: req.key } : model.options;
      return { def: { ...base, options, optionsSource: model.optionsSource, sqlHash: model.sqlHash }, graph, source: 'model' };
    }
  }
  const previous = await currentRun(deps, layer, req.table);
  const optionsSource = { file: previous ? `the current run ${previous.runId} of ${layer}.${req.table.name}` : file, text: '', firstLine: 1 };
  if (previous) {
    const options = modelOptionsSchema.parse({
      columns: Object.fromEntries(previous.columns.map((c) => [c.name, { type: duckType(c.type), nullable: c.nullable }])),
      ...((req.key ?? previous.primaryKey).length > 0 ? { unique_key: req.key ?? previous.primaryKey } : {}),
    });
    return { def: { ...base, options, optionsSource }, source: 'previous-run' };
  }
  return { def: { ...base, options: modelOptionsSchema.parse(req.key ? { unique_key: req.key } : {}), optionsSource }, source: 'none' };
}

/**
 * Checks the files against the contract and publishes them as a run of `req.table`.
 * @throws CorrenteError `CONFIG_INVALID` (bad table name, a column missing from the files),
 *   `MODEL_FAILED` (a type change, unreadable files), `DATA_TEST_FAILED` (a NULL in a NOT
 *   NULL column, a duplicate key, a failing test): nothing is published in each case.
 */
export async function publishFiles(deps: TransformDeps, req: PublishFilesRequest, signal?: AbortSignal): Promise<PublishFilesResult> {
  const layer = req.table.schema;
  if (layer !== 'silver' && layer !== 'gold') {
    throw new CorrenteError('CONFIG_INVALID', `Cannot publish into ${req.table.schema}.${req.table.name}: the schema must be the layer`, {
      option: '--table',
      hint: `Use --table silver.${req.table.name} or --table gold.${req.table.name}`,
    });
  }
  if (req.files.length === 0) throw new CorrenteError('CONFIG_INVALID', 'No file to publish', { hint: 'Give the files (or a glob) the job produced' });
  for (const f of req.files) if (!existsSync(f)) throw new CorrenteError('CONFIG_INVALID', `File ${f} does not exist`, { hint: 'Check the path or glob' });
  const { def, graph, source } = await contractFor(deps, req, layer);
  const relation = relationSql(req.files, req.format);
  // What the files hold, checked against the contract before anything is written.
  const duck = await openDuckSession({ memoryMb: deps.config.memoryMb, threads: 1 });
  let columns: { name: string; type: string }[];
  try {
    columns = await describeQuery(duck, `SELECT * FROM ${relation}`, signal).catch((err: unknown) => {
      throw new CorrenteError('MODEL_FAILED', `Cannot read ${def.file} as ${req.format}: ${String((err as Error).message).split('\n')[0]}`, { hint: `Check the files are ${req.format} (--format)` });
    });
  } finally {
    duck.close();
  }
  const names = columns.map((c) => c.name);
  for (const [name, opts] of Object.entries(def.options.columns)) {
    if (names.includes(name)) {
      const found = columns.find((c) => c.name === name)!;
      if (req.format === 'parquet' && opts.type && normaliseType(opts.type) !== normaliseType(found.type)) {
        throw new CorrenteError('MODEL_FAILED', `${def.file}: column ${name} is ${found.type} but ${layer}.${req.table.name} declares ${opts.type} (${def.optionsSource.file})`, {
          column: name,
          hint: `Write ${name} as ${opts.type} in the job, or change the contract; nothing was published`,
        });
      }
      continue;
    }
    const guess = closest(name, names);
    throw new CorrenteError('CONFIG_INVALID', `${def.file}: missing column ${name}, which ${layer}.${req.table.name} declares (${def.optionsSource.file})`, {
      column: name,
      hint: `${guess ? `Did the job write ${guess}? ` : ''}Columns in the files: ${names.join(', ')}; nothing was published`,
    });
  }
  const select = columns
    .map((c) => {
      const declared = def.options.columns[c.name]?.type;
      return req.format === 'csv' && declared ? `CAST(${quoteIdent(c.name)} AS ${declared}) AS ${quoteIdent(c.name)}` : quoteIdent(c.name);
    })
    .join(', ');
  const published: ModelDef = { ...def, sql: `SELECT ${select} FROM ${relation}` };
  const models = new Map(graph ? [...graph.project.models] : []);
  models.set(def.name, published);
  const outcome = await runModel(deps, { def: published, runId: req.runId, singularTests: graph ? singularTestsOf(graph, def.name) : [], kind: 'publish' }, models, signal);
  return { ...outcome, contract: source };
}
