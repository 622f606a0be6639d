/**
 * The pipeline scheduler: makes the BullMQ job schedulers of the `pipeline` queue match the
 * configured pipeline schedules, and creates the runs of intervals missed while nothing was
 * firing them, per each pipeline's `catchup`. It runs no work: workers take the firings
 * and the tasks.
 *
 * Any number of schedulers may run at once, and restart at will: a job scheduler is
 * upserted under an id fixed per pipeline (`pipeline.<name>`), and a run's id is fixed per
 * pipeline and interval, created only if absent, so neither is ever duplicated.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { intervalEndingAtOrBefore, intervalsEndingIn, nextFireTimes, type Config, type Interval, type PipelineConfig } from '../src/config/index.js';
import { describeError } from '../src/shared/errors.js';
import { noopLogger, type Logger } from '../src/shared/logger.js';
import { intervalRunId, pipelineOfSchedulerId, pipelineSchedulerId, type CorrenteQueues, type PipelineRuns, type TriggerResult } from '../queues/index.js';

export interface AppliedPipelineSchedule {
  pipeline: string;
  cron: string;
  tz: string;
  next: Date;
}

export interface PipelineScheduleResult {
  applied: AppliedPipelineSchedule[];
  /** Pipelines whose schedule was removed (no longer configured or no longer scheduled). */
  removed: string[];
}

/** Upserts one job scheduler per scheduled pipeline and removes the others of the `pipeline` queue. */
export async function applyPipelineSchedules(queues: Pick<CorrenteQueues, 'pipeline'>, pipelines: Readonly<Record<string, PipelineConfig>>): Promise<PipelineScheduleResult> {
  const applied: AppliedPipelineSchedule[] = [];
  for (const [name, p] of Object.entries(pipelines).sort(([a], [b]) => a.localeCompare(b))) {
    if (!p.schedule) continue;
    await queues.pipeline.upsertJobScheduler(pipelineSchedulerId(name), { pattern: p.schedule.cron, tz: p.schedule.tz }, { name: 'trigger', data: { kind: 'trigger', pipeline: name } });
    applied.push({ pipeline: name, cron: p.schedule.cron, tz: p.schedule.tz, next: nextFireTimes(p.schedule.cron, p.schedule.tz)[0]! });
  }
  const wanted = new Set(applied.map((a) => pipelineSchedulerId(a.pipeline)));
  const removed: string[] = [];
  for (const existing of await queues.pipeline.getJobSchedulers(0, -1)) {
    const pipeline = pipelineOfSchedulerId(existing.key);
    if (pipeline === undefined || wanted.has(existing.key)) continue;
    await queues.pipeline.removeJobScheduler(existing.key);
    removed.push(pipeline);
  }
  return { applied, removed };
}

/** The intervals catch-up would run for one pipeline at `now` (before checking which have runs). */
export function catchUpIntervals(p: PipelineConfig, since: Date, now: Date): Interval[] {
  if (!p.schedule || p.catchup === 'none') return [];
  if (p.catchup === 'latest') {
    const latest = intervalEndingAtOrBefore(p.schedule, now);
    return latest.end.getTime() > since.getTime() ? [latest] : [];
  }
  return intervalsEndingIn(p.schedule, since, now);
}

export interface CatchUpResult {
  pipeline: string;
  runs: TriggerResult[];
}

/**
 * Creates the runs of missed intervals: for each scheduled, unpaused pipeline, the
 * intervals since `schedule.start` (else since the scheduler first saw the pipeline) per
 * `catchup`, leaving out completed intervals and those that already have a run.
 */
export async function catchUp(runs: PipelineRuns, pipelines: Readonly<Record<string, PipelineConfig>>, now = new Date()): Promise<CatchUpResult[]> {
  const out: CatchUpResult[] = [];
  for (const [name, p] of Object.entries(pipelines).sort(([a], [b]) => a.localeCompare(b))) {
    if (!p.schedule) continue;
    const since = p.schedule.start ? new Date(p.schedule.start) : await runs.store.since(name, now);
    if (await runs.store.isPaused(name)) continue;
    const intervals = catchUpIntervals(p, since, now);
    if (intervals.length === 0) continue;
    const done = await runs.store.doneIntervals(name, intervals[0]!.end, intervals.at(-1)!.end);
    const created: TriggerResult[] = [];
    for (const interval of intervals) {
      if (done.has(interval.end.toISOString())) continue;
      if (await runs.store.get(intervalRunId(name, interval))) continue;
      const result = await runs.trigger(name, { trigger: 'catchup', interval });
      // `exists`: another scheduler created it a moment ago.
      if (result.outcome !== 'exists') created.push(result);
    }
    if (created.length > 0) out.push({ pipeline: name, runs: created });
  }
  return out;
}

export interface SchedulerOptions {
  /** The config file to watch, if any. */
  configFile?: string;
  /** Re-reads the configuration (called when the file changes). */
  reload: () => Readonly<Config>;
  /** Applies a configuration: job schedulers, then catch-up. */
  apply: (config: Readonly<Config>) => Promise<void>;
  /** Polling interval for the config file, ms (fs.watch misses changes on some filesystems and editors). @defaultValue 2000 */
  pollMs?: number;
  logger?: Logger;
}

export interface RunningScheduler {
  close(): Promise<void>;
}

/**
 * A changed config file is applied once its content has held for this long: editors and
 * `writeFile` truncate the file before writing it, and the empty file in between is a
 * valid config (the defaults, with the shipped pipelines), which must not replace the
 * schedules even for a moment.
 */
const SETTLE_MS = 200;

/**
 * Watches the config file (fs.watch, plus polling of its content) and re-applies on every
 * change, once the file has stopped changing; an invalid new config is logged and the
 * previous one stays in force.
 */
export function watchConfig(options: SchedulerOptions): RunningScheduler {
  const logger = options.logger ?? noopLogger;
  const file = options.configFile;
  if (!file) return { close: async () => {} };
  let last: string | undefined;
  let applying: Promise<void> = Promise.resolve();
  let closed = false;
  const check = (): void => {
    applying = applying.then(async () => {
      if (closed) return;
      const read = (): Promise<string | undefined> => readFile(file, 'utf8').catch(() => undefined);
      let text = await read();
      if (text === undefined || text === last) return;
      if (last !== undefined) {
        for (;;) {
          await sleep(SETTLE_MS);
          const again = await read();
          if (again === undefined) return;
          if (again === text) break;
          text = again;
        }
        if (text === last) return;
      }
      const first = last === undefined;
      last = text;
      if (first) return;
      try {
        const config = options.reload();
        await options.apply(config);
        logger.info({ file }, 'config changed: schedules re-applied');
      } catch (err) {
        logger.error({ file, err: { message: describeError(err) } }, 'config changed but is invalid: keeping the previous schedules');
      }
    });
  };
  check();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, { persistent: false }, () => check());
    watcher.on('error', () => {});
  } catch {
    // Polling alone.
  }
  const timer = setInterval(check, options.pollMs ?? 2_000);
  timer.unref();
  return {
    close: async () => {
      closed = true;
      clearInterval(timer);
      watcher?.close();
      await applying;
    },
  };
}
