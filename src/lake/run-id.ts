/**
 * Run ids: the name of one run in keys (`run-<id>/`), in Redis and in job ids. Every kind
 * of run is generated and parsed here, so gc can tell a run's age from its id alone.
 *
 * | kind        | form                               | made by                        |
 * |-------------|------------------------------------|--------------------------------|
 * | `manual`    | `20261126T105300Z-3f9a`            | `corrente migrate`             |
 * | `transform` | `transform-20261126T105300Z-3f9a`  | transform runs                 |
 * | `pipeline`  | `pipeline-20261126T105300Z-3f9a`   | pipeline runs                  |
 * | `scheduled` | `<schedule>-20261126T1053Z`        | a schedule's firing (minutes)  |
 * | `custom`    | anything else valid (`--run-id`)   | the user                       |
 *
 * Times are UTC. A new generated kind takes a prefix in {@link STAMPED_KINDS} (its ids
 * then parse, and gc ages them, with no other change).
 */
import { randomBytes } from 'node:crypto';
import { CorrenteError } from '../shared/errors.js';

/** Generated kinds of the form `[<kind>-]<yyyymmddThhmmssZ>-<4 hex>`; `manual` has no prefix. */
export const STAMPED_KINDS = ['manual', 'transform', 'pipeline'] as const;
export type StampedRunKind = (typeof STAMPED_KINDS)[number];
export type RunKind = StampedRunKind | 'scheduled' | 'custom';

/** What a run id tells. */
export interface ParsedRunId {
  id: string;
  kind: RunKind;
  /** When the run was started or fired, if the id records it. */
  time: Date | undefined;
  /** For `scheduled`: the schedule's id. */
  schedule?: string;
}

/** Characters and length a run id may have: it becomes a key segment and part of job ids. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

const STAMP = String.raw`(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z`;
const MINUTE_STAMP = String.raw`(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z`;
const PREFIXED = STAMPED_KINDS.filter((k) => k !== 'manual');
const STAMPED_ID = new RegExp(`^(?:(${PREFIXED.join('|')})-)?${STAMP}-[0-9a-f]{4}$`);
const SCHEDULED_ID = new RegExp(`^([A-Za-z0-9_.-]+)-${MINUTE_STAMP}$`);
/** Custom ids that start with a time (`20261126T105300Z`, `20261126T105300Z_backfill`). */
const LEADING_STAMP = new RegExp(`^${STAMP}(?=$|[-_.])`);

/** `yyyymmddThhmmssZ` of `date` (UTC, whole seconds). */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A UTC date from matched digits, or undefined when a field is out of range (no rollover). */
function utc(parts: readonly (string | undefined)[]): Date | undefined {
  const [year, month, day, hour, minute, second = 0] = parts.map((p) => (p === undefined ? undefined : Number(p))) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second));
  const same =
    date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  return same ? date : undefined;
}

/**
 * A new run id of a generated kind: `20261126T105300Z-3f9a` (manual) or
 * `<kind>-20261126T105300Z-3f9a`. Ids sort by start time within a kind.
 */
export function newRunId(options: { kind?: StampedRunKind; now?: Date } = {}): string {
  const kind = options.kind ?? 'manual';
  const id = `${stamp(options.now ?? new Date())}-${randomBytes(2).toString('hex')}`;
  return kind === 'manual' ? id : `${kind}-${id}`;
}

/** `<scheduleId>-<yyyymmddThhmmZ>`: the same firing always maps to the same run. */
export function scheduledRunId(scheduleId: string, firedAt: Date): string {
  return `${scheduleId}-${stamp(firedAt).slice(0, 13)}Z`;
}

/** Kind and time of any run id; ids that fit no generated form are `custom`. */
export function parseRunId(id: string): ParsedRunId {
  const stamped = STAMPED_ID.exec(id);
  const stampedTime = stamped ? utc(stamped.slice(2)) : undefined;
  if (stamped && stampedTime) return { id, kind: (stamped[1] as StampedRunKind | undefined) ?? 'manual', time: stampedTime };
  const scheduled = SCHEDULED_ID.exec(id);
  const firedAt = scheduled ? utc([...scheduled.slice(2), '0']) : undefined;
  if (scheduled && firedAt) return { id, kind: 'scheduled', time: firedAt, schedule: scheduled[1]! };
  const leading = LEADING_STAMP.exec(id);
  return { id, kind: 'custom', time: leading ? utc(leading.slice(1)) : undefined };
}

/** The time a run id records (see {@link parseRunId}), if any. */
export function runIdTime(id: string): Date | undefined {
  return parseRunId(id).time;
}

/**
 * Checks a run id given by the user (`--run-id`, `option` names where it came from).
 * @throws CorrenteError `CONFIG_INVALID` naming the option and the allowed characters.
 */
export function assertValidRunId(id: string, option = '--run-id'): string {
  if (!RUN_ID_PATTERN.test(id)) {
    throw new CorrenteError('CONFIG_INVALID', `${option} ${JSON.stringify(id)} is not a valid run id`, {
      hint: 'Use 1-64 letters, digits, dots, dashes or underscores',
      option,
    });
  }
  return id;
}
