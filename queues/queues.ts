/**
 * The BullMQ queues and the only way jobs are added to them.
 */
import { FlowProducer, Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TableRef } from '../src/shared/table-schema.js';
import {
  chunkJobId,
  exportDedupId,
  exportJobId,
  exportJobSchema,
  finalizeJobId,
  finalizeJobSchema,
  verifyJobId,
  verifyJobSchema,
  type ExportJobData,
  type FinalizeJobData,
  type ScheduleJobData,
  type VerifyJobData,
} from './jobs.js';
import { SHARED_QUEUE_NAMES, type QueueNames } from './names.js';
import type { PipelineJobData } from './pipeline-jobs.js';

/** Retry and retention policy shared by all jobs. */
export interface JobPolicy {
  /** Attempts before a job fails (transient errors only are retried). */
  attempts: number;
  /** First retry delay, ms; doubles each attempt. */
  backoffMs: number;
}

/** Completed jobs are kept a week (max 1000), failed ones a month (max 1000): Redis stays bounded. */
function defaultJobOptions(policy: JobPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600, count: 1000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 1000 },
  };
}

export interface CorrenteQueues {
  /** The BullMQ names behind the roles: the shared ones, or a run's own (`runQueueNames`). */
  names: QueueNames;
  export: Queue<ExportJobData>;
  /** Holds `verify` jobs and the `finalize` parents of chunked exports. */
  verify: Queue<VerifyJobData | FinalizeJobData>;
  /** Recurring migrations (BullMQ job schedulers). */
  schedule: Queue<ScheduleJobData>;
  /** Pipeline triggers (fired by job schedulers) and pipeline tasks. */
  pipeline: Queue<PipelineJobData>;
  /** One job per model of a queued transform run (`task` jobs of the run, see transform-runs.ts). */
  transform: Queue<PipelineJobData>;
  flows: FlowProducer;
  policy: JobPolicy;
  close(): Promise<void>;
}

/**
 * The queues behind `names` (default: the shared ones) on `connection`; the caller closes
 * them (the connection stays open).
 */
export function createQueues(connection: Redis, prefix: string, policy: JobPolicy, names: QueueNames = SHARED_QUEUE_NAMES): CorrenteQueues {
  const opts = { connection, prefix, defaultJobOptions: defaultJobOptions(policy) };
  const exportQ = new Queue<ExportJobData>(names.export, opts);
  const verifyQ = new Queue<VerifyJobData | FinalizeJobData>(names.verify, opts);
  const scheduleQ = new Queue<ScheduleJobData>(names.schedule, opts);
  const pipelineQ = new Queue<PipelineJobData>(names.pipeline, opts);
  const transformQ = new Queue<PipelineJobData>(names.transform, opts);
  const flows = new FlowProducer({ connection, prefix });
  let closing: Promise<void> | undefined;
  return {
    names,
    export: exportQ,
    verify: verifyQ,
    schedule: scheduleQ,
    pipeline: pipelineQ,
    transform: transformQ,
    flows,
    policy,
    close: () => (closing ??= Promise.all([exportQ.close(), verifyQ.close(), scheduleQ.close(), pipelineQ.close(), transformQ.close(), flows.close()]).then(() => undefined)),
  };
}

/** Outcome of adding one table's export. */
export interface EnqueuedExport {
  table: TableRef;
  jobId: string;
  /** False when another export of this table was already waiting or running. */
  added: boolean;
  /** The run that already holds the table, when not added. */
  existingRunId?: string;
}

/**
 * Adds one export job per table. The job id is derived from run and table, and a
 * deduplication key per table keeps a second export of a table from being queued while
 * one is pending or active.
 */
export interface EnqueueExportsOptions {
  /**
   * Queues whose waiting or running exports also hold their tables: a run on its own queues
   * (`migrate --inline`) passes the shared ones, so it skips a table a shared run is
   * exporting, as a shared run does.
   */
  alsoHeldBy?: CorrenteQueues;
}

export async function enqueueExports(queues: CorrenteQueues, jobs: readonly ExportJobData[], options: EnqueueExportsOptions = {}): Promise<EnqueuedExport[]> {
  const out: EnqueuedExport[] = [];
  for (const data of jobs) {
    exportJobSchema.parse(data);
    const jobId = exportJobId(data.runId, data.table);
    const holder = options.alsoHeldBy ? await heldBy(options.alsoHeldBy, data.table) : undefined;
    if (holder) {
      out.push({ table: data.table, jobId: holder.id!, added: false, existingRunId: holder.data.runId });
      continue;
    }
    // BullMQ returns the existing job for a repeated id or a deduplicated add, so look first.
    if (await queues.export.getJob(jobId)) {
      out.push({ table: data.table, jobId, added: false, existingRunId: data.runId });
      continue;
    }
    const job = await queues.export.add('export', data, { jobId, deduplication: { id: exportDedupId(data.table) } });
    const added = job.id === jobId;
    const existing = added ? undefined : await queues.export.getJob(job.id!);
    out.push({ table: data.table, jobId: job.id ?? jobId, added, ...(existing ? { existingRunId: existing.data.runId } : {}) });
  }
  return out;
}

/** The export job holding `table`'s deduplication key in `queues` (waiting or running), if any. */
async function heldBy(queues: CorrenteQueues, table: TableRef): Promise<Job<ExportJobData> | undefined> {
  const id = await queues.export.getDeduplicationJobId(exportDedupId(table));
  return id ? await queues.export.getJob(id) : undefined;
}

/**
 * Deletes a run's own queues (see `runQueueNames`) with every job and key in them, once
 * the run is over and its workers are closed. The run's status records stay.
 * @throws Error when given the shared queues.
 */
export async function deleteRunQueues(queues: CorrenteQueues): Promise<void> {
  if (queues.names.export === SHARED_QUEUE_NAMES.export || queues.names.verify === SHARED_QUEUE_NAMES.verify) {
    throw new Error('deleteRunQueues: refusing to delete the shared queues');
  }
  await queues.export.obliterate({ force: true });
  await queues.verify.obliterate({ force: true });
}

/** Adds the verify-and-publish job that follows a staged export (idempotent per run and table). */
export async function enqueueVerify(queues: CorrenteQueues, data: VerifyJobData): Promise<void> {
  verifyJobSchema.parse(data);
  await queues.verify.add('verify', data, { jobId: verifyJobId(data.runId, data.table) });
}

/**
 * Queues a chunked export as a BullMQ flow: one `export` job per range (any worker may
 * take them) under a `finalize` parent that runs once every chunk has completed, and
 * fails if one of them fails for good. Returns the parent's job id.
 */
export async function enqueueChunkedExport(queues: CorrenteQueues, parent: FinalizeJobData, chunks: readonly ExportJobData[]): Promise<string> {
  finalizeJobSchema.parse(parent);
  const id = finalizeJobId(parent.runId, parent.table);
  const opts = defaultJobOptions(queues.policy);
  await queues.flows.add({
    name: 'finalize',
    queueName: queues.names.verify,
    data: parent,
    opts: { ...opts, jobId: id },
    children: chunks.map((data) => {
      exportJobSchema.parse(data);
      return {
        name: 'export-chunk',
        queueName: queues.names.export,
        data,
        opts: { ...opts, jobId: chunkJobId(data.runId, data.table, data.chunk!.index), failParentOnFailure: true },
      };
    }),
  });
  return id;
}
