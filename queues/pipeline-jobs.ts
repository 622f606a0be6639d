/**
 * Pipeline job payloads and ids. A `trigger` job is a schedule's firing (added by a BullMQ
 * job scheduler the scheduler process applies); a `task` job runs one task of one run.
 * Payloads name the pipeline, run and task only: the task's definition is read from the
 * worker's configuration.
 */
import { z } from 'zod';

export const pipelineTriggerSchema = z.object({ kind: z.literal('trigger'), pipeline: z.string().min(1) });
export const pipelineTaskJobSchema = z.object({
  kind: z.literal('task'),
  runId: z.string().min(1),
  task: z.string().min(1),
  generation: z.number().int().nonnegative(),
});
export const pipelineJobSchema = z.discriminatedUnion('kind', [pipelineTriggerSchema, pipelineTaskJobSchema]);
export type PipelineJobData = z.infer<typeof pipelineJobSchema>;
export type PipelineTaskJobData = z.infer<typeof pipelineTaskJobSchema>;

/** The task's job in one generation of a run: adding it twice adds nothing. */
export function pipelineTaskJobId(runId: string, task: string, generation: number): string {
  return `task.${runId}.${task}.${generation}`;
}

/** The job scheduler of a pipeline's schedule. */
export function pipelineSchedulerId(pipeline: string): string {
  return `pipeline.${pipeline}`;
}

/** The pipeline a job scheduler id belongs to, if it is one of ours. */
export function pipelineOfSchedulerId(id: string): string | undefined {
  return id.startsWith('pipeline.') ? id.slice('pipeline.'.length) : undefined;
}
