/**
 * `corrente transform`: runs SQL models (silver, gold) and their data tests in DAG order,
 * as jobs on the `transform` queue (one per model, any `corrente worker`), or in this
 * process with `--inline`; `--list` prints the DAG in order with each model's inputs,
 * `--graph` as Mermaid. Models whose inputs, SQL and options did not change since their
 * current run are reported up to date and not rebuilt, unless `--full-refresh`.
 */
import { assertValidRunId, newRunId } from '../../src/lake/index.js';
import { createTransformDeps, planTransform, runTransforms, type TransformPlan } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { renderMermaid } from '../../src/transform/index.js';
import type { CliContext } from '../cli-context.js';
import { runQueued } from './transform-queued.js';
import { finishRun, outcomeLines, startedLine } from './transform-report.js';

export interface TransformFlags {
  select?: string[];
  fullRefresh?: boolean;
  list?: boolean;
  graph?: boolean;
  json?: boolean;
  runId?: string;
  /** Run the models in this process (no Redis, no worker). */
  inline?: boolean;
  /** Follow a queued run until every model is done. */
  wait?: boolean;
  /** Transforms directory (defaults to `transform.dir`). */
  dir?: string;
}

/** The DAG in order: layer, model, inputs, tags. */
function listLines(plan: TransformPlan): { layer: string; model: string; inputs: string[]; tags: string[]; file: string; external: boolean }[] {
  return plan.models.map((name) => {
    const def = plan.graph.project.models.get(name)!;
    const inputs = [
      ...new Set(def.calls.flatMap((c) => (c.kind === 'ref' ? [c.name] : c.kind === 'source' ? [`source:${c.schema}.${c.table}`] : []))),
      ...(plan.graph.upstream.get(name) ?? []).filter((u) => !def.calls.some((c) => c.kind === 'ref' && c.name === u)).map((u) => `${u} (test)`),
    ];
    return { layer: def.layer, model: name, inputs, tags: def.options.tags, file: def.file, external: def.external };
  });
}

export async function transformCommand(ctx: CliContext, selectors: string[], flags: TransformFlags): Promise<number> {
  const plan = planTransform(flags.dir ?? ctx.config.transform.dir, [...selectors, ...(flags.select ?? [])]);
  if (flags.graph) {
    process.stdout.write(renderMermaid(plan.graph));
    return 0;
  }
  if (flags.list) {
    const lines = listLines(plan);
    if (flags.json) process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
    else for (const l of lines) process.stdout.write(`${l.layer.padEnd(7)} ${l.model.padEnd(24)} <- ${l.inputs.join(', ') || '(none)'}${l.tags.length ? `  [${l.tags.join(', ')}]` : ''}\n`);
    return 0;
  }
  if (plan.models.length === 0) throw new CorrenteError('CONFIG_INVALID', 'No model selected', { hint: 'corrente transform --list shows the models' });
  if (flags.runId !== undefined) assertValidRunId(flags.runId);
  const runId = flags.runId ?? newRunId({ kind: 'transform' });
  const fullRefresh = flags.fullRefresh ?? false;
  if (!flags.inline) return runQueued(ctx, plan, { runId, fullRefresh, wait: flags.wait ?? false, json: flags.json ?? false });
  const store = createObjectStore(ctx.config.storage);
  try {
    const deps = createTransformDeps(store, ctx.config, ctx.logger);
    const live = !flags.json;
    if (live) process.stdout.write(`transform run ${runId}: ${plan.models.length} model(s)${fullRefresh ? ' (full refresh)' : ''}\n`);
    const result = await runTransforms(deps, plan, {
      runId,
      fullRefresh,
      onModel: (e) => {
        if (!live) return;
        const def = plan.graph.project.models.get(e.model)!;
        process.stdout.write(e.phase === 'start' ? startedLine({ layer: def.layer, model: e.model }) : outcomeLines(e.outcome!));
      },
    });
    return finishRun(result, flags.json);
  } finally {
    await store.close();
  }
}
