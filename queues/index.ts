export { QUEUE_NAMES, SHARED_QUEUE_NAMES, isQueueName, runQueueNames, type QueueName, type QueueNames } from './names.js';
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
export { RunStore } from './run-store.js';
export {
  assertTransition,
  canTransition,
  FINAL_STATES,
  isRunFinished,
  shouldRetry,
  TABLE_STATES,
  TableRun,
  TRANSITIONS,
  type JobFailure,
  type JobStep,
  type PublishedSummary,
  type RunStatus,
  type StagedSummary,
  type TableState,
  type TableStatus,
} from './run-lifecycle.js';
export { createQueues, deleteRunQueues, enqueueChunkedExport, enqueueExports, enqueueVerify, type CorrenteQueues, type EnqueuedExport, type EnqueueExportsOptions, type JobPolicy } from './queues.js';
export { queueRuntime, type QueueRuntime, type ResourceHost } from './queue-runtime.js';
export { enqueueMigration, type MigrationTarget } from './enqueue-migration.js';
export { inspectRedis, type RedisHealth } from './redis-health.js';
export { pipelineJobSchema, pipelineOfSchedulerId, pipelineSchedulerId, pipelineTaskJobId, pipelineTaskJobSchema, type PipelineJobData, type PipelineTaskJobData } from './pipeline-jobs.js';
export {
  FINAL_RUN_STATES,
  FINAL_TASK_STATES,
  PIPELINE_RUN_STATES,
  PipelineStore,
  TASK_STATES,
  type PipelineRunRecord,
  type PipelineRunState,
  type RunTrigger,
  type TaskRecord,
  type TaskState,
} from './pipeline-store.js';
export { openPipelineRuns, PipelineRuns, type TaskChange, type TriggerOutcome, type TriggerResult } from './pipeline-runs.js';
export { intervalRunId, manualRunId } from './pipeline-run-rules.js';
export { TRANSFORM_PIPELINE } from './pipeline-run-rules.js';
export { isFullRefreshRun, queueTransformRun, waitForDagRun, type QueuedModel } from './transform-runs.js';
