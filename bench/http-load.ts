/**
 * A closed-loop HTTP load: `connections` keep-alive clients each send the next request as
 * soon as the previous answer is read, for `seconds`. Every latency is kept, so p50, p95
 * and p99 are exact (load tools that report fixed percentiles lack p95).
 */
import { Agent, get } from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentile `p` (0..100) of sorted values, nearest rank. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function once(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`HTTP ${res.statusCode} for ${url}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * `connections` loops calling `task(i)` back to back for `seconds` (`i` counts per loop,
 * starting at the loop's number, to spread the work): every latency kept.
 */
export async function closedLoop(connections: number, seconds: number, task: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: Error | undefined;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let i = c; performance.now() < deadline; i++) {
        const start = performance.now();
        try {
          await task(i);
          latencies.push(performance.now() - start);
        } catch (err) {
          errors++;
          firstError ??= err as Error;
        }
      }
    }),
  );
  if (latencies.length === 0) throw firstError ?? new Error('no request completed');
  const sorted = latencies.sort((a, b) => a - b);
  const elapsed = (performance.now() - t0) / 1000;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    requests: sorted.length,
    errors,
    seconds: round(elapsed),
    requestsPerSecond: round(sorted.length / elapsed),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** Runs the load against `urls` (each client cycles through them). */
export async function runHttpLoad(urls: readonly string[], connections: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  try {
    return await closedLoop(connections, seconds, (i) => once(agent, urls[i % urls.length]!).then(() => undefined));
  } finally {
    agent.destroy();
  }
}
