/**
 * Prometheus metrics: request latency and query durations measured here; jobs per queue
 * and state, and per-table rows, bytes, export seconds and last success read from BullMQ
 * and the lake at scrape time (so they hold for the whole fleet, not this process).
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiQueues } from './api-types.js';
import type { ServedTables } from './served-tables.js';

export interface ApiMetrics {
  contentType: string;
  render(): Promise<string>;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  observeQuery(route: string, seconds: number): void;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LONG_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export function createApiMetrics(tables: ServedTables, queues?: ApiQueues): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'corrente_api_' });
  const lastSuccess = new Gauge({ name: 'corrente_table_last_success_timestamp_seconds', help: 'When the current run of each table or model was published', labelNames: ['layer', 'table'], registers: [registry] });
  const rows = new Gauge({ name: 'corrente_table_rows', help: 'Rows of the current run of each table or model', labelNames: ['layer', 'table'], registers: [registry] });
  const bytes = new Gauge({ name: 'corrente_table_bytes', help: 'Parquet bytes of the current run of each table or model', labelNames: ['layer', 'table'], registers: [registry] });
  const exportSeconds = new Histogram({ name: 'corrente_export_seconds', help: 'Export time of published runs (bronze), observed once per run seen', labelNames: ['table'], buckets: LONG_SECONDS, registers: [registry] });
  const transformSeconds = new Histogram({ name: 'corrente_transform_seconds', help: 'Build time of published models (silver, gold), observed once per run seen', labelNames: ['table'], buckets: LONG_SECONDS, registers: [registry] });
  const requests = new Histogram({ name: 'corrente_api_request_seconds', help: 'API request latency', labelNames: ['route', 'method', 'status'], buckets: SECONDS, registers: [registry] });
  const queries = new Histogram({ name: 'corrente_query_seconds', help: 'DuckDB query time of data requests', labelNames: ['route'], buckets: SECONDS, registers: [registry] });
  const jobs = new Gauge({ name: 'corrente_jobs', help: 'BullMQ jobs per queue and state', labelNames: ['queue', 'state'], registers: [registry] });
  const seenRuns = new Set<string>();
  const requestChildren = new Map<string, Histogram.Internal<'route' | 'method' | 'status'>>();
  const queryChildren = new Map<string, Histogram.Internal<'route'>>();

  /** Reads the lake and the queues once per scrape. */
  const refresh = async (): Promise<void> => {
    const [current, counts] = await Promise.all([tables.list().catch(() => []), queues ? queues.jobCounts().catch(() => []) : Promise.resolve([])]);
    for (const g of [lastSuccess, rows, bytes, jobs]) g.reset();
    for (const t of current) {
      const labels = { layer: t.layer, table: t.name };
      lastSuccess.set(labels, Date.parse(t.publishedAt) / 1000);
      rows.set(labels, t.manifest.totals.rows);
      bytes.set(labels, t.manifest.totals.bytes);
      const key = `${t.layer}/${t.name}/${t.manifest.runId}`;
      if (seenRuns.has(key)) continue;
      seenRuns.add(key);
      (t.layer === 'bronze' ? exportSeconds : transformSeconds).observe({ table: t.name }, t.manifest.timings.exportSeconds);
    }
    for (const q of counts) for (const [state, n] of Object.entries(q.counts)) jobs.set({ queue: q.queue, state }, n);
  };
  return {
    contentType: registry.contentType,
    render: async () => {
      await refresh();
      return registry.metrics();
    },
    observeRequest: (route, method, status, seconds) => {
      // One child per label set, looked up by a string: prom-client would otherwise hash the label object on every request.
      const key = `${route}\0${method}\0${status}`;
      let child = requestChildren.get(key);
      if (!child) requestChildren.set(key, (child = requests.labels(route, method, String(status))));
      child.observe(seconds);
    },
    observeQuery: (route, seconds) => {
      let child = queryChildren.get(route);
      if (!child) queryChildren.set(route, (child = queries.labels(route)));
      child.observe(seconds);
    },
  };
}
