/**
 * Queue names. Workers may subscribe to any subset (`corrente worker --queues export`):
 * `export` (table and chunk exports), `verify` (verify/finalize and publish), `schedule`
 * (fired schedules, which enqueue migrations), `pipeline` (pipeline triggers and tasks),
 * `transform` (one SQL model per job).
 */
export const QUEUE_NAMES = ['export', 'verify', 'schedule', 'pipeline', 'transform'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(v: string): v is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(v);
}

/** The BullMQ queue name behind each role. */
export type QueueNames = Readonly<Record<QueueName, string>>;

/** The queues every `corrente worker` serves. */
export const SHARED_QUEUE_NAMES: QueueNames = { export: 'export', verify: 'verify', schedule: 'schedule', pipeline: 'pipeline', transform: 'transform' };

/**
 * The private queues of one run, served only by the process that runs it inline
 * (`migrate --inline`): `export-run-<runId>` and `verify-run-<runId>`. BullMQ has no
 * filtered fetch (a worker takes whatever job is next on its queue), so giving the run
 * queues of its own is what keeps an inline worker off other runs' and schedules' jobs.
 * The names derive from the run id, so re-running `--inline` with the same `--run-id`
 * after a crash serves the same queues and resumes the run. A run's schedule, pipeline and
 * transform roles stay the shared queues; run-scoped workers never serve them.
 */
export function runQueueNames(runId: string): QueueNames {
  return { export: `export-run-${runId}`, verify: `verify-run-${runId}`, schedule: SHARED_QUEUE_NAMES.schedule, pipeline: SHARED_QUEUE_NAMES.pipeline, transform: SHARED_QUEUE_NAMES.transform };
}
