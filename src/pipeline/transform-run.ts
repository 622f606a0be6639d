/**
 * A transform run: the selected models in DAG order, independent ones at once (bounded),
 * each tested before it is published. A model that fails (or whose `error` test fails)
 * is not published and its downstream models are skipped; the others go on. A model whose
 * current run was built from the same inputs, SQL and options is `up-to-date` and not
 * rebuilt (unless `fullRefresh`); its readers then see unchanged inputs too.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError, describeError, isCorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { readCurrentPointer, type Manifest } from '../lake/index.js';
import { buildModelGraph, loadTransformProject, selectModels, singularTestsOf, sourcesRead, type ModelDef, type ModelGraph } from '../transform/index.js';
import { currentRun, currentSourceRun, modelTableRef } from './transform-inputs.js';
import { missingModelRun, missingSource, runModel, type ModelOutcome, type TransformDeps } from './transform-model.js';

/**
 * Transform dependencies from the config: buckets, `transform.*`, the export writer
 * settings, and the work and cache directories (`transform.workDir`, else
 * `export.workDir`, else the OS temp dir).
 */
export function createTransformDeps(store: ObjectStore, config: Pick<Config, 'storage' | 'transform' | 'export'>, logger?: Logger): TransformDeps {
  const workDir = config.transform.workDir ?? config.export.workDir ?? tmpdir();
  return {
    store,
    buckets: config.storage.buckets,
    config: config.transform,
    writer: config.export,
    workDir,
    cacheDir: config.transform.cacheDir ?? join(workDir, 'corrente-cache'),
    ...(logger ? { logger } : {}),
  };
}

/** The models a run will build, checked before anything runs. */
export interface TransformPlan {
  graph: ModelGraph;
  /** Selected models that run, in DAG order (external tables are never run). */
  models: string[];
}

/**
 * Loads the transforms directory, checks the DAG and applies the selectors.
 * @throws CorrenteError `CONFIG_INVALID` naming file and line (see `buildModelGraph`).
 */
export function planTransform(dir: string, selectors: readonly string[] = []): TransformPlan {
  const graph = buildModelGraph(loadTransformProject(dir));
  const models = selectModels(graph, selectors).filter((n) => !graph.project.models.get(n)!.external);
  return { graph, models };
}

/**
 * Checks every input of the plan exists before anything runs: each `source` has a
 * published run, and each `ref` outside the selection has one.
 * @throws CorrenteError `RUN_NOT_FOUND` naming the file and line that reads it.
 */
export async function assertInputsPublished(deps: Pick<TransformDeps, 'store' | 'buckets'>, plan: TransformPlan, signal?: AbortSignal): Promise<void> {
  for (const s of sourcesRead(plan.graph, plan.models)) {
    if (!(await currentSourceRun(deps, { schema: s.schema, name: s.table }, signal))) throw missingSource(s.schema, s.table, s.file, s.line);
  }
  const selected = new Set(plan.models);
  for (const name of plan.models) {
    const def = plan.graph.project.models.get(name)!;
    for (const c of def.calls) {
      if (c.kind !== 'ref' || selected.has(c.name)) continue;
      const target = plan.graph.project.models.get(c.name)!;
      if (!(await currentRun(deps, target.layer, modelTableRef(target.layer, c.name), signal))) throw missingModelRun(c.name, target.external, def.file, c.line);
    }
  }
}

/** A model's status in a run: `up-to-date` when its current run already reflects its inputs. */
export type ModelStatus = ModelOutcome['status'] | 'up-to-date';

/** What happened to one model of a run (a built model's {@link ModelOutcome}, or an up-to-date one). */
export type TransformModelOutcome = Omit<ModelOutcome, 'status'> & { status: ModelStatus };

/** Statuses after which a model's readers may run: its current run is what they should read. */
export const USABLE_STATUSES: ReadonlySet<ModelStatus> = new Set(['published', 'up-to-date']);

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The model's current run when it is still what a build would produce: built by this
 * model (not `corrente publish`), from the same file and options (`sqlHash`), and every
 * input it read (tables and models, as recorded in its lineage) still has the same current
 * run and increments. The inputs come from the lineage, not the SQL: the same hash means
 * the same SQL and options, hence the same inputs. Undefined: the model must be built.
 */
export async function unchangedRun(deps: Pick<TransformDeps, 'store' | 'buckets'>, def: ModelDef, models: ReadonlyMap<string, ModelDef>, signal?: AbortSignal): Promise<Manifest | undefined> {
  const current = await currentRun(deps, def.layer, modelTableRef(def.layer, def.name), signal);
  const lineage = current?.lineage;
  if (!current || !lineage || lineage.kind !== 'model' || lineage.sqlHash !== def.sqlHash) return undefined;
  for (const input of lineage.inputs) {
    const model = input.table.schema === input.layer ? models.get(input.table.name) : undefined;
    if (model) {
      // A model moved to another layer is another table: its old one is stale.
      if (model.layer !== input.layer) return undefined;
      const pointer = await readCurrentPointer(deps.store, deps.buckets[input.layer], input.table, signal);
      if (pointer?.runId !== input.runId) return undefined;
      continue;
    }
    const source = await currentSourceRun(deps, input.table, signal);
    if (!source || source.layer !== input.layer || source.pointer.runId !== input.runId) return undefined;
    if (!sameList((source.pointer.increments ?? []).map((i) => i.runId), input.increments ?? [])) return undefined;
  }
  return current;
}

export interface BuildModelOptions {
  /** The run id a built model is published under. */
  runId: string;
  /** Build even when the current run is up to date. */
  fullRefresh?: boolean;
  signal?: AbortSignal;
}

/**
 * One model of a run, as the inline run and the `transform` queue's jobs both do it:
 * reported `up-to-date` when {@link unchangedRun} finds its current run still valid
 * (unless `fullRefresh`), else built, tested and published by `runModel`. Never throws
 * for the model's own failure: it is a `failed` outcome naming the error.
 */
export async function buildModel(deps: TransformDeps, graph: ModelGraph, name: string, options: BuildModelOptions): Promise<TransformModelOutcome> {
  const t0 = performance.now();
  const models = graph.project.models;
  const def = models.get(name);
  try {
    if (!def) throw new CorrenteError('CONFIG_INVALID', `No model named ${name} in ${graph.project.dir}`, { hint: 'Give every worker the same transforms directory (transform.dir) as the command that queued the run' });
    if (!options.fullRefresh) {
      const current = await unchangedRun(deps, def, models, options.signal);
      if (current) {
        const { rows, files, bytes } = current.totals;
        return { model: name, layer: def.layer, file: def.file, status: 'up-to-date', runId: current.runId, rows, files, bytes, tests: [], seconds: (performance.now() - t0) / 1000 };
      }
    }
    return await runModel(deps, { def, runId: options.runId, singularTests: singularTestsOf(graph, name) }, models, options.signal);
  } catch (err) {
    (deps.logger ?? noopLogger).info({ model: name, err }, 'model failed');
    return failedOutcome({ name, ...(def ? { layer: def.layer, file: def.file } : {}) }, options.runId, err);
  }
}

/** The outcome of a model that could not run (`err`: why, as one line). */
export function failedOutcome(model: { name: string; layer?: ModelDef['layer']; file?: string }, runId: string, err: unknown): TransformModelOutcome {
  return {
    model: model.name,
    layer: model.layer ?? 'silver',
    file: model.file ?? model.name,
    status: 'failed',
    runId,
    tests: [],
    error: describeError(err),
    errorCode: isCorrenteError(err) ? err.code : 'INTERNAL',
  };
}

/** The selected models `name` waits for: its upstream models (read, or named by its tests) in the plan. */
export function needsOf(plan: TransformPlan, name: string): string[] {
  const selected = new Set(plan.models);
  return (plan.graph.upstream.get(name) ?? []).filter((u) => selected.has(u));
}

/** The outcome of a model skipped because `input` (one of its upstream models) is not usable. */
export function skippedOutcome(def: Pick<ModelDef, 'name' | 'layer' | 'file'>, runId: string, input: string): TransformModelOutcome {
  return { model: def.name, layer: def.layer, file: def.file, status: 'skipped', runId, tests: [], error: `skipped: its input ${input} was not published` };
}

export interface TransformRunOptions {
  runId: string;
  /** Rebuild every selected model, up to date or not. */
  fullRefresh?: boolean;
  signal?: AbortSignal;
  /** Called when a model starts and when it ends. */
  onModel?: (event: { model: string; phase: 'start' | 'end'; outcome?: TransformModelOutcome }) => void;
}

export interface TransformRunResult {
  runId: string;
  models: TransformModelOutcome[];
  /** Every model published or up to date. */
  ok: boolean;
  seconds: number;
}

/** Runs the plan in this process. Returns every model's outcome; throws only for failures before the first model. */
export async function runTransforms(deps: TransformDeps, plan: TransformPlan, options: TransformRunOptions): Promise<TransformRunResult> {
  const t0 = performance.now();
  await assertInputsPublished(deps, plan, options.signal);
  const outcomes = new Map<string, TransformModelOutcome>();
  const running = new Map<string, Promise<void>>();
  const waiting = [...plan.models];
  const models = plan.graph.project.models;
  const limit = Math.max(1, deps.config.concurrency);
  const finish = (o: TransformModelOutcome): void => {
    outcomes.set(o.model, o);
    options.onModel?.({ model: o.model, phase: 'end', outcome: o });
  };
  while (waiting.length > 0 || running.size > 0) {
    options.signal?.throwIfAborted();
    let progressed = false;
    for (const name of [...waiting]) {
      const ups = needsOf(plan, name);
      const bad = ups.find((u) => outcomes.has(u) && !USABLE_STATUSES.has(outcomes.get(u)!.status));
      if (bad) {
        waiting.splice(waiting.indexOf(name), 1);
        finish(skippedOutcome(models.get(name)!, options.runId, bad));
        progressed = true;
        continue;
      }
      if (running.size >= limit || !ups.every((u) => outcomes.has(u))) continue;
      waiting.splice(waiting.indexOf(name), 1);
      progressed = true;
      options.onModel?.({ model: name, phase: 'start' });
      const task = buildModel(deps, plan.graph, name, { runId: options.runId, ...(options.fullRefresh ? { fullRefresh: true } : {}), ...(options.signal ? { signal: options.signal } : {}) }).then((o) => {
        finish(o);
        running.delete(name);
      });
      running.set(name, task);
    }
    if (!progressed && running.size > 0) await Promise.race(running.values());
    else if (!progressed && running.size === 0 && waiting.length > 0) throw new CorrenteError('INTERNAL', `transform scheduler stuck with ${waiting.join(', ')} waiting`);
  }
  const list = plan.models.map((n) => outcomes.get(n)!);
  return { runId: options.runId, models: list, ok: list.every((o) => USABLE_STATUSES.has(o.status)), seconds: (performance.now() - t0) / 1000 };
}
