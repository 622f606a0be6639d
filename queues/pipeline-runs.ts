/**
 * The life of a pipeline run. A run is admitted (one active run per pipeline: a trigger
 * during an active run is queued behind it or skipped, per `overlap`), then its tasks are
 * added to the `pipeline` queue as their `needs` succeed; any worker takes any task. A
 * task that fails after its retries fails the run: its downstream tasks are recorded as
 * `skipped` and never run, so they publish nothing. When every task is final, the
 * interval is recorded as completed (on success) and the oldest queued run starts.
 *
 * Why not one BullMQ flow per run: a flow is a tree (a job has one parent), and a DAG task
 * needed by two others would need two parents. Instead each task's job is added, with an
 * id fixed by run, task and generation, by whichever worker completes its last need, so
 * two workers racing to add it add it once. A queued transform run is such a run too (one
 * task per model, see transform-runs.ts), on a queue of its own.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { taskOrder, type Interval, type PipelineConfig } from '../src/config/index.js';
import { closestNames } from '../src/shared/closest-names.js';
import { CorrenteError } from '../src/shared/errors.js';
import { noopLogger, type Logger } from '../src/shared/logger.js';
import { pipelineTaskJobId, type PipelineJobData } from './pipeline-jobs.js';
import { downstream, holdOf, intervalRunId, isFinalTask, manualRunId, runIdOfHold, settle, TRANSFORM_PIPELINE } from './pipeline-run-rules.js';
import { FINAL_RUN_STATES, PipelineStore, type PipelineRunRecord, type RunTrigger, type TaskRecord } from './pipeline-store.js';

export interface PipelineRunsDeps {
  store: PipelineStore;
  queue: Queue<PipelineJobData>;
  /** Queues of runs that are not configured pipelines, by their pipeline name (transform runs). */
  dagQueues?: Readonly<Record<string, Queue<PipelineJobData>>>;
  pipelines: Readonly<Record<string, PipelineConfig>>;
  logger?: Logger;
}

/**
 * What a trigger did: `exists` when a run of the same interval was already created; for
 * backfills also `done` (the interval already completed) and `retried` (its failed run
 * was retried).
 */
export type TriggerOutcome = 'started' | 'queued' | 'skipped' | 'exists' | 'done' | 'retried';

export interface TriggerResult {
  runId: string;
  outcome: TriggerOutcome;
  run: PipelineRunRecord;
}

/** The outcome of a task change: `finished` is set when this change ended the run. */
export interface TaskChange {
  run: PipelineRunRecord;
  finished?: PipelineRunRecord;
}

export class PipelineRuns {
  readonly #store: PipelineStore;
  readonly #queue: Queue<PipelineJobData>;
  readonly #dagQueues: Readonly<Record<string, Queue<PipelineJobData>>>;
  readonly #pipelines: Readonly<Record<string, PipelineConfig>>;
  readonly #logger: Logger;

  constructor(deps: PipelineRunsDeps) {
    this.#store = deps.store;
    this.#queue = deps.queue;
    this.#dagQueues = deps.dagQueues ?? {};
    this.#pipelines = deps.pipelines;
    this.#logger = deps.logger ?? noopLogger;
  }

  get store(): PipelineStore {
    return this.#store;
  }

  /** The queue a run's task jobs go on. */
  #queueOf(pipeline: string): Queue<PipelineJobData> {
    return this.#dagQueues[pipeline] ?? this.#queue;
  }

  /** Workers connected to the `pipeline` queue now (0: no task would run). */
  async workersServing(): Promise<number> {
    return this.#queue.getWorkersCount();
  }

  /**
   * The configured pipeline.
   * @throws CorrenteError `CONFIG_INVALID` naming the unknown pipeline and the closest names.
   */
  pipeline(name: string): PipelineConfig {
    const p = this.#pipelines[name];
    if (p) return p;
    const names = Object.keys(this.#pipelines);
    const near = closestNames(name, names);
    throw new CorrenteError('CONFIG_INVALID', `Unknown pipeline ${JSON.stringify(name)}`, {
      option: 'pipeline',
      hint: near.length ? `Did you mean ${near.join(' or ')}?` : names.length ? `Configured pipelines: ${names.join(', ')}` : 'Add it under `pipelines:` in corrente.yaml',
    });
  }

  /**
   * Creates a run of `pipeline` (for `interval`, if given: at most one run per interval
   * ever, whoever triggers it) and admits it.
   */
  async trigger(pipeline: string, options: { trigger: RunTrigger; interval?: Interval; now?: Date }): Promise<TriggerResult> {
    const def = this.pipeline(pipeline);
    const now = options.now ?? new Date();
    const runId = options.interval ? intervalRunId(pipeline, options.interval) : manualRunId(pipeline, now);
    const tasks: Record<string, TaskRecord> = {};
    for (const name of taskOrder(def)) tasks[name] = { kind: def.tasks[name]!.kind, needs: [...def.tasks[name]!.needs], state: 'pending', attempts: 0 };
    const record: PipelineRunRecord = {
      runId,
      pipeline,
      trigger: options.trigger,
      ...(options.interval ? { interval: { start: options.interval.start.toISOString(), end: options.interval.end.toISOString() } } : {}),
      state: 'queued',
      createdAt: now.toISOString(),
      generation: 0,
      tasks,
    };
    if (!(await this.#store.create(record))) return { runId, outcome: 'exists', run: (await this.#store.get(runId)) ?? record };
    return this.#admit(record, def.overlap);
  }

  /**
   * Creates and admits a run of a DAG that is no configured pipeline: `pipeline` names one
   * of `dagQueues`, where its task jobs go. Runs of the same name wait for each other
   * (overlap: queue). `params` are kept on the run for the workers.
   */
  async triggerDag(pipeline: string, runId: string, tasks: Readonly<Record<string, { kind: string; needs: readonly string[] }>>, params: PipelineRunRecord['params'] = {}): Promise<TriggerResult> {
    if (!this.#dagQueues[pipeline]) throw new CorrenteError('INTERNAL', `No queue for runs of ${pipeline}`);
    const record: PipelineRunRecord = {
      runId,
      pipeline,
      trigger: 'manual',
      state: 'queued',
      createdAt: new Date().toISOString(),
      generation: 0,
      params,
      tasks: Object.fromEntries(Object.entries(tasks).map(([name, t]) => [name, { kind: t.kind, needs: [...t.needs], state: 'pending' as const, attempts: 0 }])),
    };
    if (!(await this.#store.create(record))) return { runId, outcome: 'exists', run: (await this.#store.get(runId)) ?? record };
    return this.#admit(record, 'queue');
  }

  async #admit(run: PipelineRunRecord, policy: 'skip' | 'queue'): Promise<TriggerResult> {
    await this.#repairActive(run.pipeline);
    const score = Date.parse(run.interval?.start ?? run.createdAt);
    const admission = await this.#store.admit(run.pipeline, holdOf(run), policy, score);
    if (admission === 'start') return { runId: run.runId, outcome: 'started', run: await this.#start(run.runId) };
    if (admission === 'skip') {
      const { active } = await this.#store.admission(run.pipeline);
      const at = new Date().toISOString();
      const skipped = await this.#store.change(run.runId, (r) => ({
        ...r,
        state: 'skipped',
        finishedAt: at,
        error: `skipped: run ${active ? runIdOfHold(active) : '?'} of ${r.pipeline} was still active (overlap: skip)`,
        tasks: Object.fromEntries(Object.entries(r.tasks).map(([n, t]) => [n, { ...t, state: 'skipped' as const }])),
      }));
      return { runId: run.runId, outcome: 'skipped', run: skipped };
    }
    return { runId: run.runId, outcome: 'queued', run: (await this.#store.get(run.runId)) ?? run };
  }

  /** A pipeline whose active run is gone or final (a crash between finishing and releasing) is released. */
  async #repairActive(pipeline: string): Promise<void> {
    const { active } = await this.#store.admission(pipeline);
    if (!active) return;
    const run = await this.#store.get(runIdOfHold(active));
    if (run && !FINAL_RUN_STATES.has(run.state) && holdOf(run) === active) return;
    this.#logger.warn({ pipeline, runId: runIdOfHold(active) }, 'released the hold of a run that was no longer active');
    const next = await this.#store.release(pipeline, active);
    if (next) await this.#start(runIdOfHold(next));
  }

  /** queued -> running, then adds the tasks whose needs are met. */
  async #start(runId: string): Promise<PipelineRunRecord> {
    const at = new Date().toISOString();
    const run = await this.#store.change(runId, (r) => (r.state === 'queued' ? { ...r, state: 'running', startedAt: r.startedAt ?? at } : undefined));
    this.#logger.info({ pipeline: run.pipeline, runId }, 'pipeline run started');
    await this.#enqueueReady(run);
    return (await this.#store.get(runId)) ?? run;
  }

  /** Adds a job for every pending task whose needs all succeeded, then marks them queued. */
  async #enqueueReady(run: PipelineRunRecord): Promise<void> {
    if (run.state !== 'running') return;
    const def = this.#pipelines[run.pipeline];
    const ready = Object.entries(run.tasks).filter(([, t]) => t.state === 'pending' && t.needs.every((n) => run.tasks[n]?.state === 'succeeded'));
    for (const [name] of ready) {
      const task = def?.tasks[name];
      // The job first: a job without its `queued` mark still runs; a mark without a job would not.
      await this.#queueOf(run.pipeline).add(
        'task',
        { kind: 'task', runId: run.runId, task: name, generation: run.generation },
        {
          jobId: pipelineTaskJobId(run.runId, name, run.generation),
          attempts: (task?.retries ?? 0) + 1,
          backoff: { type: 'exponential', delay: task?.backoff ?? 10_000 },
        },
      );
    }
    if (ready.length === 0) return;
    const names = new Set(ready.map(([n]) => n));
    await this.#store.change(run.runId, (r) => {
      const moved = Object.entries(r.tasks).filter(([n, t]) => names.has(n) && t.state === 'pending');
      if (moved.length === 0) return undefined;
      return { ...r, tasks: { ...r.tasks, ...Object.fromEntries(moved.map(([n, t]) => [n, { ...t, state: 'queued' as const }])) } };
    });
  }

  /**
   * A task attempt begins. False when the run or the task is over (cancelled, or a job that
   * ran after its task was final): the caller runs nothing.
   */
  async taskStarted(runId: string, task: string, generation: number, attempt: number): Promise<{ ok: boolean; run: PipelineRunRecord }> {
    let ok = false;
    const at = new Date().toISOString();
    const run = await this.#store.change(runId, (r) => {
      const t = r.tasks[task];
      ok = r.state === 'running' && r.generation === generation && t !== undefined && !isFinalTask(t);
      if (!ok) return undefined;
      return { ...r, tasks: { ...r.tasks, [task]: { ...t!, state: 'running', attempts: attempt, startedAt: at } } };
    });
    return { ok, run };
  }

  /** The task's lake run id, fixed at its first call (retries and re-deliveries reuse it). */
  async lakeRunIdOf(runId: string, task: string, make: () => string): Promise<string> {
    const candidate = make();
    const run = await this.#store.change(runId, (r) => {
      const t = r.tasks[task];
      if (!t || t.lakeRunId) return undefined;
      return { ...r, tasks: { ...r.tasks, [task]: { ...t, lakeRunId: candidate } } };
    });
    return run.tasks[task]?.lakeRunId ?? candidate;
  }

  /** Rows or a detail line so far, while the task runs. */
  async taskProgress(runId: string, task: string, patch: Pick<TaskRecord, 'rows' | 'detail'>): Promise<void> {
    await this.#store.change(runId, (r) => {
      const t = r.tasks[task];
      if (!t || t.state !== 'running') return undefined;
      return { ...r, tasks: { ...r.tasks, [task]: { ...t, ...patch } } };
    });
  }

  /** The task succeeded: its ready downstream tasks are added, or the run ends. */
  async taskSucceeded(runId: string, task: string, generation: number, outcome: Pick<TaskRecord, 'rows' | 'detail' | 'result'> = {}): Promise<TaskChange> {
    const at = new Date().toISOString();
    let finished = false;
    const run = await this.#store.change(runId, (r) => {
      const t = r.tasks[task];
      finished = false;
      if (!t || isFinalTask(t) || r.generation !== generation) return undefined;
      const next = settle({ ...r, tasks: { ...r.tasks, [task]: { ...t, ...outcome, state: 'succeeded', finishedAt: at } } }, at);
      finished = next.state !== r.state;
      return next;
    });
    if (finished) return { run, finished: await this.#finished(run) };
    await this.#enqueueReady(run);
    return { run };
  }

  /**
   * The task's attempt failed. With `final` (no attempt follows), the task fails, its
   * downstream tasks are skipped, and the run ends once nothing else runs. `outcome` is
   * recorded on a final failure.
   */
  async taskFailed(runId: string, task: string, generation: number, error: { code: string; message: string }, final: boolean, outcome: Pick<TaskRecord, 'result'> = {}): Promise<TaskChange> {
    const at = new Date().toISOString();
    let finished = false;
    const run = await this.#store.change(runId, (r) => {
      const t = r.tasks[task];
      finished = false;
      if (!t || isFinalTask(t) || r.generation !== generation) return undefined;
      if (!final) return { ...r, tasks: { ...r.tasks, [task]: { ...t, state: 'retrying', error } } };
      const tasks: Record<string, TaskRecord> = { ...r.tasks, [task]: { ...t, ...outcome, state: 'failed', error, finishedAt: at } };
      for (const name of downstream(r, task)) {
        const d = tasks[name]!;
        if (!isFinalTask(d)) tasks[name] = { ...d, state: 'skipped', error: { code: 'SKIPPED', message: `upstream task ${task} failed` } };
      }
      const next = settle({ ...r, tasks }, at);
      finished = next.state !== r.state;
      return next;
    });
    return finished ? { run, finished: await this.#finished(run) } : { run };
  }

  /** After a run ended: records its interval (on success) and starts the next queued run. */
  async #finished(run: PipelineRunRecord): Promise<PipelineRunRecord> {
    if (run.state === 'succeeded' && run.interval) await this.#store.intervalDone(run.pipeline, run.interval.end);
    this.#logger.info({ pipeline: run.pipeline, runId: run.runId, state: run.state }, 'pipeline run finished');
    const next = await this.#store.release(run.pipeline, holdOf(run));
    if (next) await this.#start(runIdOfHold(next));
    return run;
  }

  /**
   * Cancels a run: tasks not yet final become `cancelled`; waiting jobs are removed;
   * running ones see the cancel (they poll the run) and abort without publishing.
   * @throws CorrenteError `RUN_STATE` when the run already ended.
   */
  async cancel(runId: string): Promise<PipelineRunRecord> {
    const at = new Date().toISOString();
    const run = await this.#store.change(runId, (r) => {
      if (FINAL_RUN_STATES.has(r.state)) {
        throw new CorrenteError('RUN_STATE', `Pipeline run ${runId} already ended (${r.state})`, { runId, hint: 'Only queued or running runs can be cancelled; `corrente retry` re-runs a failed one' });
      }
      const tasks = Object.fromEntries(Object.entries(r.tasks).map(([n, t]) => [n, isFinalTask(t) ? t : { ...t, state: 'cancelled' as const, finishedAt: at }]));
      return { ...r, state: 'cancelled', finishedAt: at, error: 'cancelled', tasks };
    });
    for (const name of Object.keys(run.tasks)) {
      // Removes waiting and delayed jobs; a running one is locked and stays (it aborts itself).
      await this.#queueOf(run.pipeline).remove(pipelineTaskJobId(runId, name, run.generation)).catch(() => 0);
    }
    const next = await this.#store.release(run.pipeline, holdOf(run));
    if (next) await this.#start(runIdOfHold(next));
    return run;
  }

  /**
   * Re-runs the failed, skipped and cancelled tasks of an ended run (succeeded ones are
   * kept), as a new generation of the same run, admitted like a new run (it waits behind an
   * active one).
   * @throws CorrenteError `RUN_STATE` when the run is still active or succeeded.
   */
  async retry(runId: string): Promise<TriggerResult> {
    const run = await this.#store.change(runId, (r) => {
      if (!['failed', 'cancelled', 'skipped'].includes(r.state)) {
        throw new CorrenteError('RUN_STATE', `Pipeline run ${runId} is ${r.state}: only failed, cancelled or skipped runs can be retried`, { runId, hint: 'Wait for it to end, or cancel it first' });
      }
      const tasks = Object.fromEntries(
        Object.entries(r.tasks).map(([n, t]) => {
          if (t.state === 'succeeded') return [n, t];
          const { lakeRunId: _lake, startedAt: _s, finishedAt: _f, ...rest } = t;
          return [n, { ...rest, state: 'pending' as const, attempts: 0 }];
        }),
      );
      const { finishedAt: _f, error: _e, ...rest } = r;
      return { ...rest, state: 'queued', generation: r.generation + 1, tasks };
    });
    return this.#admit(run, 'queue');
  }

  /**
   * Makes every interval in `intervals` (oldest first) have a run: completed ones are left
   * alone, a failed or cancelled run is retried, a missing one is created. With `overlap:
   * queue` they run one after another, oldest first.
   */
  async backfill(pipeline: string, intervals: readonly Interval[], trigger: RunTrigger = 'backfill'): Promise<TriggerResult[]> {
    this.pipeline(pipeline);
    if (intervals.length === 0) return [];
    const done = await this.#store.doneIntervals(pipeline, intervals[0]!.end, intervals.at(-1)!.end);
    const out: TriggerResult[] = [];
    for (const interval of intervals) {
      const runId = intervalRunId(pipeline, interval);
      const existing = await this.#store.get(runId);
      if (done.has(interval.end.toISOString())) {
        out.push({ runId, outcome: 'done', run: existing ?? ({ runId } as PipelineRunRecord) });
        continue;
      }
      if (existing && ['failed', 'cancelled', 'skipped'].includes(existing.state)) {
        const r = await this.retry(runId);
        out.push({ ...r, outcome: 'retried' });
        continue;
      }
      out.push(await this.trigger(pipeline, { trigger, interval }));
    }
    return out;
  }

  /** Pauses a pipeline: its schedule's firings are dropped and queued runs wait (the active one finishes). */
  async pause(pipeline: string): Promise<void> {
    this.pipeline(pipeline);
    await this.#store.setPaused(pipeline, true);
  }

  /** Resumes a pipeline and starts its oldest queued run if none is active. */
  async resume(pipeline: string): Promise<string | undefined> {
    this.pipeline(pipeline);
    await this.#store.setPaused(pipeline, false);
    await this.#repairActive(pipeline);
    const next = await this.#store.release(pipeline, '');
    if (next) await this.#start(runIdOfHold(next));
    return next ? runIdOfHold(next) : undefined;
  }
}


/** The pipeline runs of a process: its Redis connection and shared `pipeline` queue (see queueRuntime). */
export async function openPipelineRuns(
  q: { redis(): Promise<Redis>; queues(): Promise<{ pipeline: Queue<PipelineJobData>; transform: Queue<PipelineJobData> }> },
  config: { redis: { prefix: string }; history: { days: number }; pipelines: Readonly<Record<string, PipelineConfig>> },
  logger?: Logger,
): Promise<PipelineRuns> {
  const store = new PipelineStore(await q.redis(), config.redis.prefix, config.history.days);
  const queues = await q.queues();
  return new PipelineRuns({ store, queue: queues.pipeline, dagQueues: { [TRANSFORM_PIPELINE]: queues.transform }, pipelines: config.pipelines, ...(logger ? { logger } : {}) });
}
