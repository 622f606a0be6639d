/**
 * Queue names. Workers may subscribe to any subset (`corrente worker --queues export`):
 * `export` (table and chunk exports), `verify` (verify/finalize and publish), `schedule`
 * (fired schedules, which enqueue migrations).
 */
export const QUEUE_NAMES = ['export', 'verify', 'schedule'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(v: string): v is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(v);
}
