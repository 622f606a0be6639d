/**
 * Makes the BullMQ job schedulers match the configured schedules: upserts each one and
 * removes those no longer configured. It runs no work itself; workers serving the
 * `schedule` queue turn each firing into a migration run.
 */
import type { Config } from '../src/config/index.js';
import { nextFireTimes } from '../src/config/index.js';
import type { CorrenteQueues } from '../queues/index.js';

export interface AppliedSchedule {
  id: string;
  cron: string;
  tz: string;
  tables: string[];
  next: Date;
}

export interface ApplyResult {
  applied: AppliedSchedule[];
  removed: string[];
}

export async function applySchedules(queues: CorrenteQueues, schedules: Config['schedules']): Promise<ApplyResult> {
  const applied: AppliedSchedule[] = [];
  for (const s of schedules) {
    await queues.schedule.upsertJobScheduler(s.id, { pattern: s.cron, tz: s.tz }, { name: 'migrate', data: { scheduleId: s.id, tables: [...s.tables] } });
    applied.push({ id: s.id, cron: s.cron, tz: s.tz, tables: [...s.tables], next: nextFireTimes(s.cron, s.tz)[0]! });
  }
  const wanted = new Set(schedules.map((s) => s.id));
  const removed: string[] = [];
  for (const existing of await queues.schedule.getJobSchedulers(0, -1)) {
    const id = existing.key;
    if (!wanted.has(id)) {
      await queues.schedule.removeJobScheduler(id);
      removed.push(id);
    }
  }
  return { applied, removed };
}
