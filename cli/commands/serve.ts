/**
 * `corrente serve`: the HTTP backend on port 5000 (data over the current gold runs,
 * health, metrics, queue UI, dashboard) until SIGINT/SIGTERM.
 */
import { queueRuntime, type CorrenteQueues } from '../../queues/index.js';
import { createApiServer, type ApiQueues } from '../../src/api/index.js';
import { planTransform } from '../../src/pipeline/index.js';
import { withRuntime, type Runtime } from '../../src/runtime/index.js';
import { renderMermaid } from '../../src/transform/index.js';
import type { CliContext } from '../cli-context.js';
import { runResultJson } from '../run-result-json.js';

/** Every shared queue a worker serves, for the queue UI and the job-count metrics. */
function servedQueues(queues: CorrenteQueues) {
  return [queues.export, queues.verify, queues.schedule, queues.pipeline, queues.transform];
}

/** The queue side for the API, opened lazily: a Redis outage makes /health 503, not the server fail. */
function apiQueues(runtime: Runtime): ApiQueues {
  const q = queueRuntime(runtime);
  return {
    ping: async () => void (await (await q.redis()).ping()),
    jobCounts: async () => {
      return Promise.all(servedQueues(await q.queues()).map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts() })));
    },
    bullQueues: async () => {
      return servedQueues(await q.queues());
    },
    recentRuns: async (limit) => {
      const runs = await q.runs();
      const out: unknown[] = [];
      for (const id of await runs.recent(limit)) {
        const run = await runs.get(id);
        if (run) out.push({ createdAt: run.createdAt, ...runResultJson(run) });
      }
      return out;
    },
  };
}

export async function serveCommand(ctx: CliContext): Promise<number> {
  return withRuntime(ctx.config, ctx.logger, async (runtime) => {
    const server = await createApiServer({
      config: ctx.config.api,
      store: await runtime.store(),
      buckets: ctx.config.storage.buckets,
      logger: ctx.logger,
      queues: apiQueues(runtime),
      transformGraph: async () => renderMermaid(planTransform(ctx.config.transform.dir).graph),
    });
    try {
      const { url } = await server.listen();
      process.stderr.write(`corrente API listening on ${url} (dashboard ${url}/, OpenAPI ${url}/docs, health ${url}/health)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    } finally {
      await server.close();
    }
    return 0;
  });
}
