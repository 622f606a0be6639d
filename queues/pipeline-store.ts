/**
 * Pipeline runs in Redis: one JSON document per run (its tasks' states), the per-pipeline
 * admission state (the active run, runs queued behind it, paused), the intervals that
 * completed, and bounded task logs. Every key expires or is bounded, so history is kept
 * `history.days` and Redis does not grow without limit. It stores; the rules of a run's
 * life are in pipeline-runs.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { CorrenteError } from '../src/shared/errors.js';

/** A task's state in a run. `succeeded`, `failed`, `skipped` and `cancelled` are final. */
export const TASK_STATES = ['pending', 'queued', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

/** A run's state. `queued`: waiting for the pipeline's active run (overlap: queue) or a resume. */
export const PIPELINE_RUN_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type PipelineRunState = (typeof PIPELINE_RUN_STATES)[number];
export const FINAL_RUN_STATES: ReadonlySet<PipelineRunState> = new Set(['succeeded', 'failed', 'cancelled', 'skipped']);

/** How a run came to be. */
export type RunTrigger = 'manual' | 'schedule' | 'catchup' | 'backfill';

export interface TaskRecord {
  kind: string;
  needs: string[];
  state: TaskState;
  /** Attempts started in the current generation. */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  /** The last error (kept when a retry then succeeds). */
  error?: { code: string; message: string };
  /** The lake run id this task writes under (export, transform), fixed at its first attempt. */
  lakeRunId?: string;
  /** Rows exported or produced, when the kind counts them. */
  rows?: number;
  /** One line about the outcome (exit code, tables published, models built). */
  detail?: string;
  /** The whole outcome, when the kind reports one (a transform run's model). */
  result?: Record<string, unknown>;
}

export interface PipelineRunRecord {
  runId: string;
  pipeline: string;
  trigger: RunTrigger;
  /** The schedule interval `[start, end)` this run covers (ISO), for scheduled, catch-up and backfill runs. */
  interval?: { start: string; end: string };
  state: PipelineRunState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Bumped by `retry`: task job ids carry it, so a retried task gets fresh jobs. */
  generation: number;
  /** Why the run was skipped, cancelled or failed. */
  error?: string;
  /** What the workers need to know about a run that is no configured pipeline (a transform run's `fullRefresh`). */
  params?: Record<string, string | boolean>;
  tasks: Record<string, TaskRecord>;
}

/** Sets the run document only if it is still what the writer read. KEYS[1] run; ARGV expected, next, ttl. */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
`;

/**
 * Admits a run: it becomes the pipeline's active run, or waits (queued, or paused), or is
 * refused (overlap: skip). KEYS active, pending, paused; ARGV runId, policy, score.
 */
const ADMIT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return 'start' end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
  return 'paused'
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 'start' end
if ARGV[2] == 'skip' then return 'skip' end
redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[1])
return 'queued'
`;

/**
 * Ends a run's hold on its pipeline and promotes the oldest queued run, unless paused.
 * KEYS active, pending, paused; ARGV runId ('' to only promote). Returns the promoted run id.
 */
const RELEASE = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return false end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if not nxt then return false end
redis.call('ZREM', KEYS[2], nxt)
redis.call('SET', KEYS[1], nxt)
return nxt
`;

const MAX_CHANGE_ATTEMPTS = 50;
const MAX_INDEXED_RUNS = 5000;

export type Admission = 'start' | 'queued' | 'paused' | 'skip';

export class PipelineStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  /** @param historyDays - how long run documents and logs live (`history.days`). */
  constructor(redis: Redis, prefix: string, historyDays: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = Math.max(1, Math.round(historyDays * 86_400));
  }

  #run(runId: string): string {
    return `${this.#prefix}:prun:${runId}`;
  }

  #pl(pipeline: string, what: 'active' | 'pending' | 'paused' | 'done' | 'since' | 'runs'): string {
    return `${this.#prefix}:pl:${pipeline}:${what}`;
  }

  #log(runId: string, task: string): string {
    return `${this.#prefix}:plog:${runId}:${task}`;
  }

  /** Stores a new run; false (and nothing written) when a run with this id exists. */
  async create(run: PipelineRunRecord): Promise<boolean> {
    const ok = await this.#redis.set(this.#run(run.runId), JSON.stringify(run), 'EX', this.#ttlSeconds, 'NX');
    if (ok !== 'OK') return false;
    const at = Date.parse(run.createdAt);
    await this.#redis
      .multi()
      .zadd(`${this.#prefix}:pruns`, at, run.runId)
      .zremrangebyrank(`${this.#prefix}:pruns`, 0, -MAX_INDEXED_RUNS - 1)
      .zadd(this.#pl(run.pipeline, 'runs'), at, run.runId)
      .zremrangebyrank(this.#pl(run.pipeline, 'runs'), 0, -MAX_INDEXED_RUNS - 1)
      .exec();
    return true;
  }

  async get(runId: string): Promise<PipelineRunRecord | undefined> {
    const raw = await this.#redis.get(this.#run(runId));
    return raw ? (JSON.parse(raw) as PipelineRunRecord) : undefined;
  }

  /**
   * Changes a run atomically: `decide` gets the current document and returns the next one
   * (or undefined to leave it); when another writer changed it in between, `decide` runs
   * again on the new document.
   * @throws CorrenteError `RUN_NOT_FOUND` when the run does not exist (expired).
   */
  async change(runId: string, decide: (current: PipelineRunRecord) => PipelineRunRecord | undefined): Promise<PipelineRunRecord> {
    const key = this.#run(runId);
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const raw = await this.#redis.get(key);
      if (!raw) throw new CorrenteError('RUN_NOT_FOUND', `Pipeline run ${runId} not found`, { runId, hint: 'See `corrente runs` for recent runs (history is kept history.days)' });
      const current = JSON.parse(raw) as PipelineRunRecord;
      const next = decide(current);
      if (next === undefined) return current;
      if ((await this.#redis.eval(COMPARE_AND_SET, 1, key, raw, JSON.stringify(next), this.#ttlSeconds)) === 1) return next;
      await sleep(Math.random() * 5);
    }
    throw new CorrenteError('RUN_STATE', `Pipeline run ${runId} kept changing under ${MAX_CHANGE_ATTEMPTS} attempts to update it`, { runId, retryable: true });
  }

  /** Most recent run ids, newest first, of one pipeline or of all. */
  async recent(pipeline: string | undefined, limit: number): Promise<string[]> {
    return this.#redis.zrevrange(pipeline ? this.#pl(pipeline, 'runs') : `${this.#prefix}:pruns`, 0, limit - 1);
  }

  /** Admits `runId` under `policy` (see {@link Admission}); queued runs wait ordered by `score` (oldest interval first). */
  async admit(pipeline: string, runId: string, policy: 'skip' | 'queue', score: number): Promise<Admission> {
    return (await this.#redis.eval(ADMIT, 3, this.#pl(pipeline, 'active'), this.#pl(pipeline, 'pending'), this.#pl(pipeline, 'paused'), runId, policy, score)) as Admission;
  }

  /** Releases `runId`'s hold (or none, with ''), and returns the queued run promoted to active, if any. */
  async release(pipeline: string, runId: string): Promise<string | undefined> {
    const next = await this.#redis.eval(RELEASE, 3, this.#pl(pipeline, 'active'), this.#pl(pipeline, 'pending'), this.#pl(pipeline, 'paused'), runId);
    return typeof next === 'string' ? next : undefined;
  }

  /** The active run and the queued ones (oldest first), as `<runId>#<generation>`. */
  async admission(pipeline: string): Promise<{ active: string | undefined; queued: string[]; paused: boolean }> {
    const [active, queued, paused] = await Promise.all([
      this.#redis.get(this.#pl(pipeline, 'active')),
      this.#redis.zrange(this.#pl(pipeline, 'pending'), '0', '-1'),
      this.#redis.exists(this.#pl(pipeline, 'paused')),
    ]);
    return { active: active ?? undefined, queued, paused: paused === 1 };
  }

  async setPaused(pipeline: string, paused: boolean): Promise<void> {
    if (paused) await this.#redis.set(this.#pl(pipeline, 'paused'), new Date().toISOString());
    else await this.#redis.del(this.#pl(pipeline, 'paused'));
  }

  async isPaused(pipeline: string): Promise<boolean> {
    return (await this.#redis.exists(this.#pl(pipeline, 'paused'))) === 1;
  }

  /** Records that the interval ending at `end` completed (its run succeeded). */
  async intervalDone(pipeline: string, end: string): Promise<void> {
    await this.#redis.zadd(this.#pl(pipeline, 'done'), Date.parse(end), end);
  }

  /** Ends (ISO) of the completed intervals whose end lies in `[from, to]`. */
  async doneIntervals(pipeline: string, from: Date, to: Date): Promise<Set<string>> {
    return new Set(await this.#redis.zrangebyscore(this.#pl(pipeline, 'done'), from.getTime(), to.getTime()));
  }

  /** When the scheduler first saw this pipeline's schedule (set once; catch-up never goes before it). */
  async since(pipeline: string, now: Date): Promise<Date> {
    await this.#redis.set(this.#pl(pipeline, 'since'), now.toISOString(), 'NX');
    return new Date((await this.#redis.get(this.#pl(pipeline, 'since')))!);
  }

  /** Replaces a task's captured output (already bounded by the caller). */
  async setLog(runId: string, task: string, text: string): Promise<void> {
    await this.#redis.set(this.#log(runId, task), text, 'EX', this.#ttlSeconds);
  }

  async getLog(runId: string, task: string): Promise<string | undefined> {
    return (await this.#redis.get(this.#log(runId, task))) ?? undefined;
  }
}
