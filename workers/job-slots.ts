/**
 * `worker.concurrency` (`WORKER_CONCURRENCY`, `--concurrency`) as users read it: the jobs
 * one worker process runs at once, in total over the queues it serves. BullMQ counts
 * concurrency per queue (one Worker each), so the workers share these slots:
 *
 * - when the last slot fills, every worker stops taking jobs (paused in this process only,
 *   so other processes keep taking them), and resumes when a slot frees;
 * - a worker that was already blocked waiting for a job when the slots filled may still
 *   receive one: that job goes straight back to its queue (delayed by `bounceMs`) for
 *   another process to take, rather than waiting here behind a long export.
 */
import { DelayedError, type Job, type Processor, type Worker } from 'bullmq';

export class JobSlots {
  private running = 0;
  private workers: readonly Worker[] = [];
  private closed = false;

  /**
   * @param limit - jobs at once in this process, >= 1.
   * @param bounceMs - how long a job received while every slot is taken waits in its queue
   *   before any worker may take it again. @defaultValue 500
   */
  constructor(
    private readonly limit: number,
    private readonly bounceMs = 500,
  ) {}

  /** The workers to pause while every slot is taken. */
  attach(workers: readonly Worker[]): void {
    this.workers = workers;
  }

  /** Wraps a processor so each job holds a slot while it runs. */
  wrap<T, R>(processor: Processor<T, R>): Processor<T, R> {
    return async (job: Job<T, R>, token?: string, signal?: AbortSignal) => {
      if (this.running >= this.limit) {
        // Not an attempt: BullMQ neither counts nor reports a DelayedError as a failure.
        await job.moveToDelayed(Date.now() + this.bounceMs, token);
        throw new DelayedError();
      }
      this.running++;
      if (this.running === this.limit) this.setPaused(true);
      try {
        return await processor(job, token, signal);
      } finally {
        this.running--;
        this.setPaused(false);
      }
    };
  }

  /** Stops resuming workers: they are closing. */
  close(): void {
    this.closed = true;
  }

  private setPaused(paused: boolean): void {
    for (const w of this.workers) {
      if (paused && !w.isPaused()) void w.pause(true).catch(() => {});
      // Resuming a closed BullMQ worker would start it again.
      else if (!paused && w.isPaused() && !this.closed && !w.closing) void w.resume();
    }
  }
}
