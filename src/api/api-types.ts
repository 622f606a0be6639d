/**
 * What the API server borrows from the process (it closes none of it): the lake, and
 * optionally the queue side for health, metrics, the queue UI and the runs list.
 */
import type { ApiConfig } from '../config/index.js';
import type { Layer } from '../pipeline/index.js';
import type { Logger } from '../shared/logger.js';
import type { ObjectStore } from '../storage/index.js';

/** The queue side as the API sees it (built by the `serve` command from queues/). */
export interface ApiQueues {
  /** Resolves when Redis answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Job counts per queue and state (waiting, active, completed, failed, delayed...). */
  jobCounts(): Promise<{ queue: string; counts: Record<string, number> }[]>;
  /** The BullMQ queues, for the queue UI. */
  bullQueues(): Promise<unknown[]>;
  /** The most recent runs, newest first, as `status --json` prints them. */
  recentRuns(limit: number): Promise<unknown[]>;
}

export interface ApiDeps {
  config: ApiConfig;
  store: ObjectStore;
  buckets: Readonly<Record<Layer, string>>;
  logger: Logger;
  /** Absent: health reports Redis as not configured, metrics carry no job counts. */
  queues?: ApiQueues;
  /** The transform models' DAG (Mermaid text) for the dashboard, when a project exists. */
  transformGraph?: () => Promise<string | undefined>;
}
