/**
 * A transform run: the selected models in DAG order, independent ones at once (bounded),
 * each tested before it is published. A model that fails (or whose `error` test fails)
 * is not published and its downstream models are skipped; the others go on.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import type { ObjectStore } from '../storage/index.js';
import { CorrenteError, describeError, isCorrenteError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { buildModelGraph, loadTransformProject, selectModels, singularTestsOf, sourcesRead, type ModelGraph } from '../transform/index.js';
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

export interface TransformRunOptions {
  runId: string;
  signal?: AbortSignal;
  /** Called when a model starts and when it ends. */
  onModel?: (event: { model: string; phase: 'start' | 'end'; outcome?: ModelOutcome }) => void;
}

export interface TransformRunResult {
  runId: string;
  models: ModelOutcome[];
  /** Every model published. */
  ok: boolean;
  seconds: number;
}

/** Runs the plan. Returns every model's outcome; throws only for failures before the first model. */
export async function runTransforms(deps: TransformDeps, plan: TransformPlan, options: TransformRunOptions): Promise<TransformRunResult> {
  const t0 = performance.now();
  const logger = deps.logger ?? noopLogger;
  await assertInputsPublished(deps, plan, options.signal);
  const selected = new Set(plan.models);
  const outcomes = new Map<string, ModelOutcome>();
  const running = new Map<string, Promise<void>>();
  const waiting = [...plan.models];
  const models = plan.graph.project.models;
  const limit = Math.max(1, deps.config.concurrency);
  const finish = (o: ModelOutcome): void => {
    outcomes.set(o.model, o);
    options.onModel?.({ model: o.model, phase: 'end', outcome: o });
  };
  while (waiting.length > 0 || running.size > 0) {
    options.signal?.throwIfAborted();
    let progressed = false;
    for (const name of [...waiting]) {
      const ups = (plan.graph.upstream.get(name) ?? []).filter((u) => selected.has(u));
      const bad = ups.find((u) => outcomes.has(u) && outcomes.get(u)!.status !== 'published');
      const def = models.get(name)!;
      if (bad) {
        waiting.splice(waiting.indexOf(name), 1);
        finish({ model: name, layer: def.layer, file: def.file, status: 'skipped', runId: options.runId, tests: [], error: `skipped: its input ${bad} was not published` });
        progressed = true;
        continue;
      }
      if (running.size >= limit || !ups.every((u) => outcomes.has(u))) continue;
      waiting.splice(waiting.indexOf(name), 1);
      progressed = true;
      options.onModel?.({ model: name, phase: 'start' });
      const task = runModel(deps, { def, runId: options.runId, singularTests: singularTestsOf(plan.graph, name) }, models, options.signal)
        .catch((err: unknown): ModelOutcome => {
          logger.info({ model: name, err }, 'model failed');
          return {
            model: name,
            layer: def.layer,
            file: def.file,
            status: 'failed',
            runId: options.runId,
            tests: [],
            error: describeError(err),
            errorCode: isCorrenteError(err) ? err.code : 'INTERNAL',
          };
        })
        .then((o) => {
          finish(o);
          running.delete(name);
        });
      running.set(name, task);
    }
    if (!progressed && running.size > 0) await Promise.race(running.values());
    else if (!progressed && running.size === 0 && waiting.length > 0) throw new CorrenteError('INTERNAL', `transform scheduler stuck with ${waiting.join(', ')} waiting`);
  }
  const list = plan.models.map((n) => outcomes.get(n)!);
  return { runId: options.runId, models: list, ok: list.every((o) => o.status === 'published'), seconds: (performance.now() - t0) / 1000 };
}
