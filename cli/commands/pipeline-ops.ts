/**
 * Pipeline operations: `runs` (history, or one run with its task logs), `pause`, `resume`,
 * `cancel`, `retry`.
 *
 * Exit codes: 0 done; 1 (`retry --wait`) the retried run failed; 2 unknown pipeline or
 * run, or a run whose state does not allow it (cancel of an ended run, retry of a
 * running or succeeded one); 3 Redis unreachable.
 */
import type { PipelineRunRecord } from '../../queues/index.js';
import { catchUp } from '../../scheduler/pipeline-scheduler.js';
import type { CliContext } from '../cli-context.js';
import { followRuns, withPipelineRuns } from './pipeline-run.js';

export interface RunsFlags {
  limit?: number;
  json?: boolean;
  /** Print whole task logs (one run). */
  logs?: boolean;
}

const MARK: Record<string, string> = { succeeded: 'ok', failed: 'FAILED', skipped: 'skipped', cancelled: 'cancelled', running: 'running', retrying: 'retrying', queued: 'queued', pending: 'pending' };

function secondsOf(run: PipelineRunRecord): string {
  if (!run.startedAt) return '-';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  return ((end - Date.parse(run.startedAt)) / 1000).toFixed(1);
}

/** One line per run: id, trigger, interval, state, start, seconds, tasks, rows, error. */
export function renderRunsTable(list: readonly PipelineRunRecord[]): string {
  const rows = list.map((r) => [
    r.runId,
    r.trigger,
    r.interval ? `${r.interval.start.slice(0, 16)}..${r.interval.end.slice(0, 16)}` : '-',
    r.state,
    r.startedAt?.slice(0, 19).replace('T', ' ') ?? '-',
    secondsOf(r),
    Object.entries(r.tasks).map(([n, t]) => `${n}:${MARK[t.state] ?? t.state}`).join(' '),
    String(Object.values(r.tasks).reduce((n, t) => n + (t.rows ?? 0), 0)),
    r.error && r.state !== 'succeeded' ? r.error.slice(0, 120) : '',
  ]);
  const head = ['RUN', 'TRIGGER', 'INTERVAL (UTC)', 'STATE', 'STARTED (UTC)', 'SECONDS', 'TASKS', 'ROWS', 'ERROR'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export async function runsCommand(ctx: CliContext, target: string | undefined, flags: RunsFlags): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    // A run id shows that run in detail, with its task logs.
    const one = target && !ctx.config.pipelines[target] ? await runs.store.get(target) : undefined;
    if (target && !one) runs.pipeline(target);
    if (one) {
      const logs = Object.fromEntries(await Promise.all(Object.keys(one.tasks).map(async (t) => [t, (await runs.store.getLog(one.runId, t)) ?? null] as const)));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ...one, logs }, null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`${renderRunsTable([one])}\n\n`);
      for (const [name, t] of Object.entries(one.tasks)) {
        process.stdout.write(`${name} (${t.kind}): ${t.state}${t.attempts ? `, ${t.attempts} attempt(s)` : ''}${t.detail ? `, ${t.detail}` : ''}${t.error ? `\n  error: ${t.error.message}` : ''}\n`);
        const log = logs[name];
        if (log) {
          const shown = flags.logs ? log : log.split('\n').slice(-20).join('\n');
          process.stdout.write(`${shown.replace(/^/gm, '  | ').trimEnd()}\n${flags.logs ? '' : '  (last 20 lines; --logs for the whole captured log)\n'}`);
        }
      }
      return 0;
    }
    const ids = await runs.store.recent(target, flags.limit ?? 20);
    const list = (await Promise.all(ids.map((id) => runs.store.get(id)))).filter((r): r is PipelineRunRecord => r !== undefined);
    if (flags.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) process.stdout.write(`No pipeline runs${target ? ` of ${target}` : ''} in the last ${ctx.config.history.days} days.\n`);
    else process.stdout.write(`${renderRunsTable(list)}\n`);
    return 0;
  });
}

export async function pauseCommand(ctx: CliContext, pipeline: string, flags: { json?: boolean }): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    await runs.pause(pipeline);
    const hold = (await runs.store.admission(pipeline)).active;
    const active = hold?.slice(0, hold.lastIndexOf('#'));
    if (flags.json) process.stdout.write(`${JSON.stringify({ pipeline, paused: true, active: active ?? null })}\n`);
    else process.stdout.write(`${pipeline}: paused (schedule firings are dropped, queued runs wait)${active ? `; run ${active} is still active and will finish` : ''}\n`);
    return 0;
  });
}

export async function resumeCommand(ctx: CliContext, pipeline: string, flags: { json?: boolean }): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    const started = await runs.resume(pipeline);
    // Firings dropped while paused: the missed intervals, per the pipeline's `catchup`.
    const caught = (await catchUp(runs, { [pipeline]: runs.pipeline(pipeline) })).flatMap((c) => c.runs.map((r) => r.runId));
    if (flags.json) process.stdout.write(`${JSON.stringify({ pipeline, paused: false, started: started ?? null, caughtUp: caught })}\n`);
    else process.stdout.write(`${pipeline}: resumed${started ? `; started queued run ${started}` : ''}${caught.length ? `; caught up ${caught.join(', ')}` : ''}\n`);
    return 0;
  });
}

export async function cancelCommand(ctx: CliContext, runId: string, flags: { json?: boolean }): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    const run = await runs.cancel(runId);
    if (flags.json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    else process.stdout.write(`run ${runId}: cancelled (${Object.entries(run.tasks).filter(([, t]) => t.state === 'cancelled').map(([n]) => n).join(', ') || 'no task'} stopped; nothing more is published)\n`);
    return 0;
  });
}

export async function retryCommand(ctx: CliContext, runId: string, flags: { json?: boolean; wait?: boolean }): Promise<number> {
  return withPipelineRuns(ctx, async (runs) => {
    const before = await runs.store.get(runId);
    const result = await runs.retry(runId);
    const again = Object.entries(before?.tasks ?? {}).filter(([, t]) => t.state !== 'succeeded').map(([n]) => n);
    if (!flags.json) process.stdout.write(`run ${runId}: retrying ${again.join(', ')} (${result.outcome})\n`);
    if (!flags.wait) {
      if (flags.json) process.stdout.write(`${JSON.stringify(result.run, null, 2)}\n`);
      return 0;
    }
    const [run] = await followRuns(runs, [runId], !flags.json);
    if (flags.json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    return run!.state === 'succeeded' ? 0 : 1;
  });
}
