export { QUEUE_NAMES, isQueueName, type QueueName } from './names.js';
export {
  exportJobSchema,
  finalizeJobSchema,
  scheduleJobSchema,
  verifyJobSchema,
  parseJobData,
  exportJobId,
  verifyJobId,
  tableKey,
  type ExportJobData,
  type FinalizeJobData,
  type ScheduleJobData,
  type VerifyJobData,
} from './jobs.js';
export { createRedis, assertRedisReachable, type Redis } from './redis-connection.js';
export { RunStore, isRunFinished, TABLE_STATES, type RunStatus, type TableState, type TableStatus } from './run-store.js';
export { createQueues, enqueueChunkedExport, enqueueExports, enqueueVerify, type CorrenteQueues, type EnqueuedExport, type JobPolicy } from './queues.js';
export { enqueueMigration, type MigrationTarget } from './enqueue-migration.js';
