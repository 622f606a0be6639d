/**
 * Checks pipelines beyond their shape (every `needs` names a task of the same pipeline, no
 * cycles, cron and time zone valid), and the schedule intervals runs are made for. Fails
 * at start-up, naming pipeline, task and key, rather than at 2 a.m.
 */
import { CronExpressionParser } from 'cron-parser';
import { closestNames } from '../shared/closest-names.js';
import { CorrenteError } from '../shared/errors.js';
import type { PipelineConfig } from './pipeline-schema.js';
import { isTimeZone } from './schedules.js';

/** A schedule interval `[start, end)`: the run for it fires at `end`. */
export interface Interval {
  start: Date;
  end: Date;
}

function invalid(message: string, option: string, hint: string): CorrenteError {
  return new CorrenteError('CONFIG_INVALID', message, { option, hint });
}

/**
 * Validates every pipeline; `times: false` leaves out the cron and time zone checks of
 * their schedules (see `LoadConfigOptions.checkSchedules`).
 * @throws CorrenteError `CONFIG_INVALID` naming `pipelines.<name>.tasks.<task>.<key>`.
 */
export function assertPipelinesValid(pipelines: Readonly<Record<string, PipelineConfig>>, { times = true }: { times?: boolean } = {}): void {
  for (const [name, p] of Object.entries(pipelines)) {
    const tasks = Object.keys(p.tasks);
    for (const [task, t] of Object.entries(p.tasks)) {
      t.needs.forEach((need, i) => {
        const option = `pipelines.${name}.tasks.${task}.needs[${i}]`;
        if (need === task) throw invalid(`Pipeline ${name}, task ${task}: needs itself`, option, 'Remove it from its own needs');
        if (!p.tasks[need]) {
          const near = closestNames(need, tasks);
          throw invalid(`Pipeline ${name}, task ${task}: needs unknown task ${JSON.stringify(need)}`, option, near.length ? `Did you mean ${near.join(' or ')}?` : `Use one of: ${tasks.join(', ')}`);
        }
      });
    }
    const cycle = findCycle(p);
    if (cycle) {
      throw invalid(`Pipeline ${name}: tasks depend on each other in a cycle: ${cycle.join(' -> ')}`, `pipelines.${name}.tasks.${cycle[0]}.needs`, 'Remove one of these needs so the tasks form a DAG');
    }
    if (p.schedule && times) {
      const option = `pipelines.${name}.schedule`;
      if (!isTimeZone(p.schedule.tz)) throw invalid(`Pipeline ${name}: unknown time zone ${JSON.stringify(p.schedule.tz)}`, `${option}.tz`, 'Use an IANA name such as UTC or America/Sao_Paulo');
      try {
        CronExpressionParser.parse(p.schedule.cron, { tz: p.schedule.tz }).next();
      } catch (err) {
        throw invalid(`Pipeline ${name}: invalid cron pattern ${JSON.stringify(p.schedule.cron)}: ${(err as Error).message}`, `${option}.cron`, 'Use 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" for 02:00 daily');
      }
      if (p.schedule.start !== undefined && Number.isNaN(Date.parse(p.schedule.start))) {
        throw invalid(`Pipeline ${name}: schedule.start ${JSON.stringify(p.schedule.start)} is not a date`, `${option}.start`, 'Use an ISO date such as 2026-11-01');
      }
    }
  }
}

/** A cycle among the tasks' `needs`, as task names (first repeated at the end), if any. */
function findCycle(p: PipelineConfig): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (task: string): string[] | undefined => {
    if (state.get(task) === 'done') return undefined;
    if (state.get(task) === 'open') return [...path.slice(path.indexOf(task)), task];
    state.set(task, 'open');
    path.push(task);
    for (const need of p.tasks[task]!.needs) {
      const found = visit(need);
      if (found) return found;
    }
    path.pop();
    state.set(task, 'done');
    return undefined;
  };
  for (const task of Object.keys(p.tasks).sort()) {
    const found = visit(task);
    if (found) return found;
  }
  return undefined;
}

/** Task names in an order where every task comes after what it needs (ties by name). */
export function taskOrder(p: PipelineConfig): string[] {
  const out: string[] = [];
  const placed = new Set<string>();
  const names = Object.keys(p.tasks).sort();
  while (out.length < names.length) {
    const ready = names.filter((n) => !placed.has(n) && p.tasks[n]!.needs.every((d) => placed.has(d)));
    if (ready.length === 0) throw new CorrenteError('INTERNAL', 'taskOrder: cycle in a validated pipeline');
    for (const n of ready) {
      out.push(n);
      placed.add(n);
    }
  }
  return out;
}

/** Every task downstream of `task` (transitively), not including it. */
export function downstreamOf(p: PipelineConfig, task: string): string[] {
  const out = new Set<string>();
  const walk = (t: string): void => {
    for (const [name, def] of Object.entries(p.tasks)) {
      if (def.needs.includes(t) && !out.has(name)) {
        out.add(name);
        walk(name);
      }
    }
  };
  walk(task);
  return [...out].sort();
}

function cron(schedule: { cron: string; tz: string }, at: Date) {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.tz, currentDate: at });
}

/** The interval whose end is the last firing at or before `at`. */
export function intervalEndingAtOrBefore(schedule: { cron: string; tz: string }, at: Date): Interval {
  const end = cron(schedule, new Date(at.getTime() + 1)).prev().toDate();
  const start = cron(schedule, end).prev().toDate();
  return { start, end };
}

/**
 * Intervals whose end lies in `(after, upTo]`, oldest first, at most `limit` (the newest
 * ones are kept when there are more).
 */
export function intervalsEndingIn(schedule: { cron: string; tz: string }, after: Date, upTo: Date, limit = 1000): Interval[] {
  const out: Interval[] = [];
  let end = intervalEndingAtOrBefore(schedule, upTo).end;
  while (end.getTime() > after.getTime() && out.length < limit) {
    const start = cron(schedule, end).prev().toDate();
    out.push({ start, end });
    end = start;
  }
  return out.reverse();
}

/**
 * Intervals whose start lies in `[from, to)` and that have ended by `now`, oldest first
 * (what `backfill --from --to` runs).
 */
export function intervalsStartingIn(schedule: { cron: string; tz: string }, from: Date, to: Date, now = new Date(), limit = 1000): Interval[] {
  const out: Interval[] = [];
  const it = cron(schedule, new Date(from.getTime() - 1));
  for (;;) {
    const start = it.next().toDate();
    if (start.getTime() >= to.getTime()) break;
    const end = cron(schedule, start).next().toDate();
    if (end.getTime() > now.getTime()) break;
    out.push({ start, end });
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Midnight of `date` (`YYYY-MM-DD`) in time zone `tz`, or an ISO date-time as given.
 * @throws CorrenteError `CONFIG_INVALID` naming `option`.
 */
export function parseDateIn(text: string, tz: string, option: string): Date {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (day) {
    const guess = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    // The zone's offset at that day: format the UTC midnight in the zone and correct by the difference.
    const offset = zoneOffsetMs(new Date(guess), tz);
    const local = new Date(guess - offset);
    return new Date(guess - zoneOffsetMs(local, tz));
  }
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) {
    throw new CorrenteError('CONFIG_INVALID', `${option} ${JSON.stringify(text)} is not a date`, { option, hint: 'Use YYYY-MM-DD (midnight in the pipeline\'s time zone) or an ISO date-time with offset' });
  }
  return new Date(at);
}

/** How far `tz`'s wall clock is ahead of UTC at `at`, ms. */
function zoneOffsetMs(at: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const get = (type: string): number => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}
