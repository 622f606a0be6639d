/**
 * Checks schedule entries beyond their shape: the cron pattern parses, the time zone
 * exists, the table names are valid. Fails at start-up rather than at 2 a.m.
 */
import { CronExpressionParser } from 'cron-parser';
import { CorrenteError } from '../shared/errors.js';
import { parseTableRef } from '../shared/table-schema.js';
import type { Config } from './schema.js';

/** True when `tz` names an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The next `count` fire times of a pattern, for display. */
export function nextFireTimes(cron: string, tz: string, count = 1, from = new Date()): Date[] {
  const expr = CronExpressionParser.parse(cron, { tz, currentDate: from });
  return Array.from({ length: count }, () => expr.next().toDate());
}

/**
 * Validates the `schedules` entries; `times: false` leaves out the cron and time zone
 * checks (see `LoadConfigOptions.checkSchedules`).
 * @throws CorrenteError `CONFIG_INVALID` naming `schedules[i].<key>`.
 */
export function assertSchedulesValid(schedules: Config['schedules'], { times = true }: { times?: boolean } = {}): void {
  const ids = new Set<string>();
  schedules.forEach((s, i) => {
    const where = `schedules[${i}] (${s.id})`;
    if (ids.has(s.id)) throw new CorrenteError('CONFIG_INVALID', `${where}: duplicate schedule id`, { option: `schedules[${i}].id`, hint: 'Give every schedule a distinct id' });
    ids.add(s.id);
    for (const t of s.tables) parseTableRef(t);
    if (!times) return;
    if (!isTimeZone(s.tz)) {
      throw new CorrenteError('CONFIG_INVALID', `${where}: unknown time zone ${JSON.stringify(s.tz)}`, { option: `schedules[${i}].tz`, hint: 'Use an IANA name such as UTC, Europe/Lisbon or America/Sao_Paulo' });
    }
    try {
      nextFireTimes(s.cron, s.tz);
    } catch (err) {
      throw new CorrenteError('CONFIG_INVALID', `${where}: invalid cron pattern ${JSON.stringify(s.cron)}: ${(err as Error).message}`, {
        option: `schedules[${i}].cron`,
        hint: 'Use 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" for 02:00 daily',
      });
    }
  });
}
