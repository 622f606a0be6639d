/**
 * `corrente run <pipeline> [--wait]` and `corrente backfill <pipeline> --from --to`:
 * start pipeline runs (workers execute them) and optionally follow them task by task.
 *
 * Exit codes: 0 the run was started or queued (with `--wait`: it succeeded); 1 it was
 * skipped (overlap: skip), or (with `--wait`) failed or was cancelled; 2 unknown pipeline,
 * paused pipeline, bad dates; 3 Redis unreachable.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { intervalsStartingIn, parseDateIn } from '../../src/config/index.js';
import { withRuntime } from '../../src/runtime/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { assertRedisReachable, FINAL_RUN_STATES, openPipelineRuns, queueRuntime, type PipelineRunRecord, type PipelineRuns, type TriggerResult } from '../../queues/index.js';
import type { CliContext } from '../cli-context.js';
import { formatCount } from '../render.js';

export interface RunFlags {
  wait?: boolean;
  json?: boolean;
}

export interface BackfillFlags extends RunFlags {
  from: string;
  to: string;
}

/** Opens the pipeline runs of this process's runtime and calls `fn`. */
export async function withPipelineRuns<R>(ctx: CliContext, fn: (runs: PipelineRuns) => Promise<R>): Promise<R> {
  await assertRedisReachable(ctx.config.redis.url);
  return withRuntime(ctx.config, ctx.logger, async (runtime) => fn(await openPipelineRuns(queueRuntime(runtime), ctx.config, ctx.logger)));
}

function seconds(run: PipelineRunRecord): string {
  if (!run.startedAt) return '';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return `${((end - Date.parse(run.startedAt)) / 1000).toFixed(1)} s`;
}

/**
 * Polls runs until they all end, printing each task's state changes (human mode).
 * Returns the final records.
 */
export async function followRuns(runs: PipelineRuns, runIds: readonly string[], live: boolean, pollMs = 250): Promise<PipelineRunRecord[]> {
  const seen = new Map<string, string>();
  const out = new Map<string, PipelineRunRecord>();
  while (out.size < runIds.length) {
    for (const id of runIds) {
      if (out.has(id)) continue;
      const run = await runs.store.get(id);
      if (!run) throw new CorrenteError('RUN_NOT_FOUND', `Pipeline run ${id} disappeared`, { runId: id });
      for (const [name, t] of Object.entries(run.tasks)) {
        const key = `${id}/${name}`;
        const shown = `${t.state}${t.state === 'running' || t.state === 'retrying' ? ` (attempt ${t.attempts})` : ''}${t.rows ? ` ${formatCount(t.rows)} rows` : ''}`;
        if (seen.get(key) === shown) continue;
        seen.set(key, shown);
        if (live && t.state !== 'pending') {
          const why = t.state === 'succeeded' ? (t.detail ? `: ${t.detail}` : '') : t.error && t.state !== 'running' ? `: ${t.error.message}` : '';
          process.stdout.write(`${runIds.length > 1 ? `${id} ` : ''}  ${name.padEnd(16)} ${shown}${why}\n`);
        }
      }
      if (FINAL_RUN_STATES.has(run.state)) {
        out.set(id, run);
        if (live) process.stdout.write(`run ${id} ${run.state}${run.startedAt ? ` in ${seconds(run)}` : ''}${run.error && run.state !== 'succeeded' ? `: ${run.error}` : ''}\n`);
      }
    }
    if (out.size < runIds.length) await sleep(pollMs);
  }
  return runIds.map((id) => out.get(id)!);
}

function describeTrigger(r: TriggerResult): string {
  const interval = r.run.interval ? ` [${r.run.interval.start} .. ${r.run.interval.end})` : '';
  switch (r.outcome) {
    case 'started':
      return `run ${r.runId}${interval}: started`;
    case 'queued':
      return `run ${r.runId}${interval}: queued behind the active run`;
    case 'skipped':
      return `run ${r.runId}${interval}: ${r.run.error ?? 'skipped'}`;
    case 'exists':
      return `run ${r.runId}${interval}: already exists (${r.run.state})`;
    case 'done':
      return `run ${r.runId}${interval}: interval already completed`;
    case 'retried':
      return `run ${r.runId}${interval}: retried (${r.run.state})`;
  }
}

export async function runCommand(ctx: CliContext, pipeline: string, flags: RunFlags): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    runs.pipeline(pipeline);
    if (await runs.store.isPaused(pipeline)) {
      throw new CorrenteError('CONFIG_INVALID', `Pipeline ${pipeline} is paused`, { option: 'pipeline', hint: `Resume it first: corrente resume ${pipeline}` });
    }
    const result = await runs.trigger(pipeline, { trigger: 'manual' });
    if (!flags.json) process.stdout.write(`${describeTrigger(result)}\n`);
    if (result.outcome === 'skipped') {
      if (flags.json) process.stdout.write(`${JSON.stringify(result.run, null, 2)}\n`);
      return 1;
    }
    if (!flags.wait) {
      if (flags.json) process.stdout.write(`${JSON.stringify(result.run, null, 2)}\n`);
      else process.stdout.write(`follow it with: corrente runs ${result.runId}\n`);
      return 0;
    }
    if (!flags.json && (await runs.workersServing()) === 0) process.stdout.write('no worker serves the pipeline queue yet: start `corrente worker` for the run to progress\n');
    const [run] = await followRuns(runs, [result.runId], !flags.json);
    if (flags.json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return run!.state === 'succeeded' ? 0 : 1;
  });
}

export async function backfillCommand(ctx: CliContext, pipeline: string, flags: BackfillFlags): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    const def = runs.pipeline(pipeline);
    if (!def.schedule) {
      throw new CorrenteError('CONFIG_INVALID', `Pipeline ${pipeline} has no schedule, so it has no intervals to backfill`, { option: `pipelines.${pipeline}.schedule`, hint: 'Add schedule: { cron: ..., tz: ... }, or start it with corrente run' });
    }
    const from = parseDateIn(flags.from, def.schedule.tz, '--from');
    // A day given as --to is included whole: up to the next midnight in the zone.
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(flags.to.trim());
    const end = day ? parseDateIn(new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]) + 1)).toISOString().slice(0, 10), def.schedule.tz, '--to') : parseDateIn(flags.to, def.schedule.tz, '--to');
    if (end.getTime() <= from.getTime()) throw new CorrenteError('CONFIG_INVALID', `--to (${flags.to}) is not after --from (${flags.from})`, { option: '--to', hint: 'Give --from before --to; both days are included' });
    const intervals = intervalsStartingIn(def.schedule, from, end);
    if (intervals.length === 0) throw new CorrenteError('CONFIG_INVALID', `No complete interval of ${pipeline} ("${def.schedule.cron}" ${def.schedule.tz}) starts between ${flags.from} and ${flags.to}`, { option: '--from', hint: 'Widen the range; intervals that have not ended yet are not run' });
    const results = await runs.backfill(pipeline, intervals);
    if (!flags.json) for (const r of results) process.stdout.write(`${describeTrigger(r)}\n`);
    const active = results.filter((r) => r.outcome !== 'done' && r.outcome !== 'skipped').map((r) => r.runId);
    if (!flags.wait) {
      if (flags.json) process.stdout.write(`${JSON.stringify(results.map((r) => ({ runId: r.runId, outcome: r.outcome, interval: r.run.interval ?? null })), null, 2)}\n`);
      return results.some((r) => r.outcome === 'skipped') ? 1 : 0;
    }
    const finished = await followRuns(runs, active, !flags.json);
    if (flags.json) process.stdout.write(`${JSON.stringify(finished, null, 2)}\n`);
    return finished.every((r) => r.state === 'succeeded') && !results.some((r) => r.outcome === 'skipped') ? 0 : 1;
  });
}
