/**
 * `corrente doctor`: checks every configured part (config, Postgres, Redis, object storage,
 * DuckDB) and prints ✓/✗ per check with the fix for each failure. Exit 1 when a check fails,
 * an invalid config included (a ✗ line, not the usual one-line error).
 */
import { inspectRedis } from '../../queues/index.js';
import { checkDuckdb, checkPostgres, checkStorage, type CheckResult } from '../../src/pipeline/index.js';
import { describeError, isCorrenteError, type CorrenteError } from '../../src/shared/errors.js';
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

const MARK = { ok: '✓', warn: '!', fail: '✗', skip: '-' } as const;

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
  return report([configCheck, ...groups.flat()], flags);
}

/**
 * Doctor when the config itself is invalid: that is a failed check with its fix, not the
 * end of the report. The parts whose address comes from the config are listed as not
 * checked; DuckDB, which needs none, still is.
 */
export async function doctorWithoutConfig(err: CorrenteError, flags: { json?: boolean }): Promise<number> {
  const configCheck: CheckResult = { part: 'config', check: 'valid', status: 'fail', detail: err.message, fix: err.hint ?? 'See the Configuration section of the README', ms: 0 };
  const skipped = (part: string, check: string): CheckResult => ({ part, check, status: 'skip', detail: 'not checked: its settings come from the invalid config', ms: 0 });
  return report([configCheck, skipped('postgres', 'reachable'), skipped('redis', 'reachable'), skipped('storage', 'buckets'), ...(await checkDuckdb(undefined))], flags);
}

/** Prints the checks (a table, or JSON) and returns the exit code: 1 when any failed. */
function report(results: CheckResult[], flags: { json?: boolean }): number {
  const failed = results.filter((r) => r.status === 'fail');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, checks: results }, null, 2)}\n`);
  } else {
    const width = Math.max(...results.map((r) => `${r.part} ${r.check}`.length));
    for (const r of results) {
      process.stdout.write(`${MARK[r.status]} ${`${r.part} ${r.check}`.padEnd(width)}  ${r.detail}${r.ms >= 1 ? ` (${r.ms} ms)` : ''}\n`);
      if (r.fix && r.status !== 'ok') process.stdout.write(`  ${' '.repeat(width)}  fix: ${r.fix}\n`);
    }
    const checked = results.filter((r) => r.status !== 'skip').length;
    process.stdout.write(failed.length === 0 ? `all ${checked} checks passed\n` : `${failed.length} of ${checked} checks failed\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
