/**
 * `corrente transform`: runs SQL models (silver, gold) and their data tests in DAG order,
 * inline; `--list` prints the DAG in order with each model's inputs, `--graph` as Mermaid.
 */
import { newRunId } from '../../src/lake/index.js';
import { createTransformDeps, planTransform, runTransforms, type ModelOutcome, type TransformPlan } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { renderMermaid } from '../../src/transform/index.js';
import type { CliContext } from '../cli-context.js';

export interface TransformFlags {
  select?: string[];
  fullRefresh?: boolean;
  list?: boolean;
  graph?: boolean;
  json?: boolean;
  runId?: string;
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

function testSummary(o: ModelOutcome): string {
  const failed = o.tests.filter((t) => t.failingRows > 0);
  if (o.tests.length === 0) return '-';
  const errors = failed.filter((t) => t.severity === 'error').length;
  const warns = failed.length - errors;
  return `${o.tests.length - failed.length}/${o.tests.length} passed${errors ? `, ${errors} failed` : ''}${warns ? `, ${warns} warned` : ''}`;
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
  const runId = flags.runId ?? newRunId({ kind: 'transform' });
  const store = createObjectStore(ctx.config.storage);
  try {
    const deps = createTransformDeps(store, ctx.config, ctx.logger);
    const live = !flags.json;
    if (live) process.stdout.write(`transform run ${runId}: ${plan.models.length} model(s)${flags.fullRefresh ? ' (full refresh)' : ''}\n`);
    const result = await runTransforms(deps, plan, {
      runId,
      onModel: (e) => {
        if (!live || e.phase !== 'end' || !e.outcome) return;
        const o = e.outcome;
        const rows = o.rows !== undefined ? `${o.rows.toLocaleString('en-US')} rows` : '';
        const q = o.quarantined ? `, ${o.quarantined.toLocaleString('en-US')} quarantined` : '';
        process.stdout.write(`  ${o.status.padEnd(9)} ${`${o.layer}.${o.model}`.padEnd(32)} ${rows}${q}${o.seconds !== undefined ? ` in ${o.seconds.toFixed(1)} s` : ''}  tests: ${testSummary(o)}${o.pointerMoved === false ? '  (not made current: a run over newer inputs is current)' : ''}\n`);
        for (const t of o.tests.filter((x) => x.failingRows > 0)) {
          process.stdout.write(`      ${t.severity === 'error' ? 'FAILED' : 'warn  '} ${t.name}: ${t.failingRows.toLocaleString('en-US')} row(s), e.g.\n`);
          for (const s of t.sample) process.stdout.write(`        ${s}\n`);
          if (t.audit) process.stdout.write(`        all failing rows: ${t.audit}\n`);
        }
        if (o.status !== 'published' && o.error) process.stdout.write(`      ${o.error}\n`);
      },
    });
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`done in ${result.seconds.toFixed(1)} s: ${result.models.filter((m) => m.status === 'published').length} published, ${result.models.filter((m) => m.status === 'failed').length} failed, ${result.models.filter((m) => m.status === 'skipped').length} skipped\n`);
    const failed = result.models.find((m) => m.status === 'failed');
    if (failed) {
      const others = result.models.filter((m) => m.status !== 'published').length - 1;
      throw new CorrenteError(failed.errorCode === 'DATA_TEST_FAILED' ? 'DATA_TEST_FAILED' : 'MODEL_FAILED', `${failed.error}${others > 0 ? ` (${others} more model(s) not published)` : ''}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
