/**
 * `corrente doctor`: checks every configured part (config, Postgres, Redis, object storage,
 * DuckDB) and prints ✓/✗ per check with the fix for each failure. Exit 1 when a check fails.
 */
import { inspectRedis } from '../../queues/index.js';
import { checkDuckdb, checkPostgres, checkStorage, type CheckResult } from '../../src/pipeline/index.js';
import { describeError, isCorrenteError } from '../../src/shared/errors.js';
import { redactUrls } from '../../src/shared/redact.js';
import type { CliContext } from '../cli-context.js';

/** BullMQ 5+ needs Redis 6.2 or later. */
const MIN_REDIS = [6, 2];

async function checkRedis(url: string): Promise<CheckResult[]> {
  const started = Date.now();
  try {
    const h = await inspectRedis(url);
    const [major = 0, minor = 0] = h.version.split('.').map(Number);
    const oldVersion = major < MIN_REDIS[0]! || (major === MIN_REDIS[0] && minor < MIN_REDIS[1]!);
    return [
      {
        part: 'redis',
        check: 'reachable',
        status: oldVersion ? 'fail' : 'ok',
        detail: `${redactUrls(url)}, Redis ${h.version}, ping ${h.pingMs} ms`,
        ...(oldVersion ? { fix: `Upgrade Redis to ${MIN_REDIS.join('.')} or later (BullMQ needs it)` } : {}),
        ms: Date.now() - started,
      },
      {
        part: 'redis',
        check: 'maxmemory-policy',
        status: h.maxmemoryPolicy === 'noeviction' ? 'ok' : 'fail',
        detail: `maxmemory-policy is ${h.maxmemoryPolicy}`,
        ...(h.maxmemoryPolicy === 'noeviction'
          ? {}
          : { fix: 'Set it to noeviction, or Redis may evict job and lock keys: redis-cli CONFIG SET maxmemory-policy noeviction (and maxmemory-policy noeviction in redis.conf)' }),
        ms: 0,
      },
    ];
  } catch (err) {
    return [{ part: 'redis', check: 'reachable', status: 'fail', detail: isCorrenteError(err) ? err.message : describeError(err), ...(isCorrenteError(err) && err.hint ? { fix: err.hint } : {}), ms: Date.now() - started }];
  }
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

export async function doctorCommand(ctx: CliContext, flags: { json?: boolean }): Promise<number> {
  const { config } = ctx;
  const configCheck: CheckResult = {
    part: 'config',
    check: 'valid',
    status: 'ok',
    detail: `storage ${config.storage.kind === 'local' ? `local lake ${config.storage.lakeDir}` : `S3 ${config.storage.s3.endpoint ?? '(AWS)'}`}, ${config.tables.length} table entr${config.tables.length === 1 ? 'y' : 'ies'}, ${config.schedules.length} schedule(s)`,
    ms: 0,
  };
  const groups = await Promise.all([checkPostgres(config), checkRedis(config.redis.url), checkStorage(config), checkDuckdb(config)]);
  const results = [configCheck, ...groups.flat()];
  const failed = results.filter((r) => r.status === 'fail');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2)}\n`);
  } else {
    const width = Math.max(...results.map((r) => `${r.part} ${r.check}`.length));
    for (const r of results) {
      process.stdout.write(`${MARK[r.status]} ${`${r.part} ${r.check}`.padEnd(width)}  ${r.detail}${r.ms >= 1 ? ` (${r.ms} ms)` : ''}\n`);
      if (r.fix && r.status !== 'ok') process.stdout.write(`  ${' '.repeat(width)}  fix: ${r.fix}\n`);
    }
    process.stdout.write(failed.length === 0 ? `all ${results.length} checks passed\n` : `${failed.length} of ${results.length} checks failed\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
