/**
 * Pipelines (`pipelines:` in corrente.yaml): named DAGs of tasks with `needs:`, an
 * optional schedule, and run policies. The shape lives here; the checks a schema cannot
 * express (unknown `needs`, cycles, cron patterns, time zones) are in pipelines.ts.
 */
import { z } from 'zod';
import { CorrenteError } from '../shared/errors.js';
import { SHIPPED_PIPELINES } from './shipped-pipelines.js';

/** Task kinds a pipeline can run. */
export const TASK_KINDS = ['export', 'transform', 'command', 'publish', 'gc'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

/** `overlap`: what a trigger does while the pipeline's previous run is still active. */
export const OVERLAP_POLICIES = ['skip', 'queue'] as const;
/** `catchup`: which missed intervals the scheduler runs when it starts. */
export const CATCHUP_POLICIES = ['none', 'latest', 'all'] as const;

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Milliseconds of a duration: a number of seconds, or text such as `90s`, `10m`, `1h30m`, `500ms`.
 * @throws CorrenteError `CONFIG_INVALID` for anything else.
 */
export function durationMs(value: string | number, option = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value * 1000);
  } else {
    const m = DURATION.exec(value.trim());
    if (m && value.trim() !== '') return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000 + Number(m[4] ?? 0);
  }
  throw new CorrenteError('CONFIG_INVALID', `${option}: ${JSON.stringify(value)} is not a duration`, {
    option,
    hint: 'Use seconds (90) or units h, m, s, ms (e.g. 10m, 1h30m, 500ms)',
  });
}

/** A duration in config: seconds or `10m`-style text, parsed to milliseconds. */
const duration = z.union([z.number().nonnegative(), z.string().regex(DURATION, 'use seconds or units h, m, s, ms, e.g. 10m or 1h30m')]).transform((v) => durationMs(v));

const NAME = /^[A-Za-z0-9_-]{1,40}$/;
const NAME_MESSAGE = 'use 1-40 letters, digits, dashes or underscores';

/** Fields every task has. */
const taskBase = {
  /** Tasks that must succeed before this one starts. */
  needs: z.array(z.string()).default([]),
  /** Further attempts after a failure (so `retries: 2` means up to 3 attempts). */
  retries: z.number().int().min(0).max(20).default(0),
  /** Delay before the first retry; doubles each attempt. */
  backoff: duration.default(10_000),
  /** Longest an attempt may run; it is aborted and counts as failed. Default: `worker.jobTimeoutMinutes`. */
  timeout: duration.optional(),
};

/** Webhook alerts (per pipeline, or the `alerts:` default for every pipeline). */
export const alertsSchema = z.strictObject({
  /** URL the JSON summary is POSTed to; credentials in it are redacted from logs. */
  webhook: z.url({ protocol: /^https?$/ }),
  /** Also post when a run succeeds (failures always post). */
  onSuccess: z.boolean().default(false),
  /** Per-attempt timeout. */
  timeout: duration.default(10_000),
  /** Further attempts after a failed POST (network error, 5xx, 429). */
  retries: z.number().int().min(0).max(10).default(3),
  /** Delay before the first retry; doubles each attempt. */
  backoff: duration.default(1_000),
});
export type AlertsConfig = z.output<typeof alertsSchema>;

export const pipelineTaskSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('export'),
    ...taskBase,
    /** Tables or patterns (`core.*`), as in `tables:`; their configured layer and columns apply. */
    tables: z.array(z.string().min(3)).min(1),
    /** `incremental` exports only rows past the table's watermark (tables with `incremental:`). */
    mode: z.enum(['full', 'incremental']).default('full'),
  }),
  z.strictObject({
    kind: z.literal('transform'),
    ...taskBase,
    /** Models or selectors (`tag:x`, `+model`, `model+`); empty: every model. */
    select: z.array(z.string().min(1)).default([]),
    /** Rebuild every selected model, also those up to date (inputs, SQL and options unchanged since their current run). */
    fullRefresh: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal('command'),
    ...taskBase,
    /** Shell command (`sh -c`); non-zero exit fails the task. */
    command: z.string().min(1),
    /** Working directory, relative to where the worker runs. */
    cwd: z.string().optional(),
    /** Extra environment variables (besides `CORRENTE_RUN_ID`, `CORRENTE_INTERVAL_START`, ...). */
    env: z.record(z.string(), z.string()).default({}),
  }),
  z.strictObject({
    kind: z.literal('publish'),
    ...taskBase,
    /** Files (path or glob) a command wrote. */
    from: z.string().min(1),
    /** Lake table to publish them as, `<layer>.<table>`. */
    table: z.string().min(3),
    format: z.enum(['parquet', 'csv']).default('parquet'),
    /** Primary key column(s) checked unique. */
    key: z.union([z.string(), z.array(z.string())]).optional(),
  }),
  z.strictObject({
    kind: z.literal('gc'),
    ...taskBase,
    /** Published runs kept per table. Default: `export.keepRuns`. */
    keep: z.number().int().positive().optional(),
    /** Unfinished runs are removed when older than this many hours. */
    olderThanHours: z.number().positive().default(24),
  }),
]);
export type PipelineTask = z.output<typeof pipelineTaskSchema>;

export const pipelineSchema = z.strictObject({
  description: z.string().optional(),
  /** When the pipeline runs by itself; without it, only `corrente run` / `backfill` start it. */
  schedule: z
    .strictObject({
      /** Cron pattern (5 or 6 fields). Each firing runs the interval since the previous one. */
      cron: z.string().min(1),
      /** IANA time zone the pattern is read in. */
      tz: z.string().default('UTC'),
      /** With `catchup: all`, the first interval considered (ISO date or time); default: when the scheduler first saw the pipeline. */
      start: z.string().optional(),
    })
    .optional(),
  /** While a run is active, a new trigger is `skip`ped or `queue`d (one active run per pipeline either way). */
  overlap: z.enum(OVERLAP_POLICIES).default('queue'),
  /** Missed intervals run when the scheduler starts: `none`, the `latest` one, or `all`. */
  catchup: z.enum(CATCHUP_POLICIES).default('latest'),
  /** Overrides the top-level `alerts:`; `false` turns alerts off for this pipeline. */
  alerts: z.union([alertsSchema, z.literal(false)]).optional(),
  /** Tasks by name. */
  tasks: z.record(z.string().regex(NAME, NAME_MESSAGE), pipelineTaskSchema).refine((t) => Object.keys(t).length > 0, 'a pipeline needs at least one task'),
});
export type PipelineConfig = z.output<typeof pipelineSchema>;

/** `pipelines:` by name; the shipped sample pipelines when not configured. */
export const pipelinesSchema = z.record(z.string().regex(NAME, NAME_MESSAGE), pipelineSchema).prefault(structuredClone(SHIPPED_PIPELINES) as unknown as Record<string, z.input<typeof pipelineSchema>>);

/** `history:`: how long pipeline runs (and their task logs) stay listable. */
export const historySchema = z
  .strictObject({
    days: z.number().int().positive().default(30),
    /** Bytes of a task's output kept in its log (the first quarter and the last three quarters). */
    logBytes: z.number().int().min(1024).default(256 * 1024),
  })
  .prefault({});
