#!/usr/bin/env node
/**
 * The `corrente` command line. The only place (with the worker entry point) that exits
 * the process: every failure becomes one line on stderr and a non-zero exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { describeError, isCorrenteError } from '../src/shared/errors.js';
import { createCliContext, type GlobalFlags } from './cli-context.js';
import { demoCommand } from './commands/demo.js';
import { gcCommand } from './commands/gc.js';
import { migrateCommand } from './commands/migrate.js';
import { scheduleCommand } from './commands/schedule.js';
import { seedCommand } from './commands/seed.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import { workerCommand } from './commands/worker.js';

// The AWS SDK warns on every S3 call under Node 20 (support ends in 2027); that notice is
// for us, not for users, and would break the one-line error contract on stderr.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning instanceof Error ? warning.message : warning).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

/** Exit codes: 0 ok, 1 the work failed, 2 bad input or configuration, 3 a service is unreachable. */
function exitCodeFor(err: unknown): number {
  if (!isCorrenteError(err)) return 1;
  if (['CONFIG_INVALID', 'TABLE_NOT_FOUND', 'TABLE_EXISTS', 'RUN_NOT_FOUND', 'PERMISSION_DENIED', 'POSTGRES_AUTH', 'STORAGE_AUTH', 'STORAGE_BUCKET_MISSING'].includes(err.code)) return 2;
  if (['POSTGRES_UNREACHABLE', 'REDIS_UNREACHABLE', 'STORAGE_UNREACHABLE'].includes(err.code)) return 3;
  return 1;
}

function run(fn: (this: Command, globals: GlobalFlags) => Promise<number>) {
  return async function (this: Command): Promise<void> {
    const globals = this.optsWithGlobals<GlobalFlags>();
    try {
      process.exitCode = await fn.call(this, globals);
    } catch (err) {
      process.stderr.write(`corrente: ${describeError(err)}\n`);
      if (!isCorrenteError(err) && process.env.CORRENTE_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
      process.exitCode = exitCodeFor(err);
    }
    // Open handles (sockets in backoff) must not keep a finished command alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
  };
}

const program = new Command('corrente')
  .description('Move PostgreSQL tables to exact, verified Parquet in object storage')
  .option('-c, --config <file>', 'YAML config file (default: ./corrente.yaml if present, or $CORRENTE_CONFIG)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('migrate')
  .description('enqueue one export job per table and print the run id')
  .option('-t, --tables <list>', 'comma-separated schema.table names (default: the configured tables)')
  .option('-w, --wait', 'wait for the run, showing progress per table')
  .option('-i, --inline', 'also run a worker in this process (implies --wait)')
  .option('--json', 'print a machine-readable result')
  .option('--run-id <id>', 'use this run id (enqueuing the same run twice adds nothing)')
  .action(run(async function (this: Command) {
    const flags = this.opts();
    return migrateCommand(createCliContext(this.optsWithGlobals(), {}, true), flags);
  }));

program
  .command('worker')
  .description('run a worker: takes export and verify jobs until SIGTERM')
  .option('--concurrency <n>', 'jobs at once in this process')
  .option('--queues <list>', 'queues to serve: export, verify, schedule (default all)')
  .action(run(async function (this: Command) {
    const flags = this.opts<{ concurrency?: string; queues?: string }>();
    const overrides = flags.concurrency !== undefined ? { worker: { concurrency: Number(flags.concurrency) } } : {};
    return workerCommand(createCliContext(this.optsWithGlobals(), overrides), flags);
  }));

program
  .command('verify')
  .argument('<table>', 'schema.table')
  .description('re-verify the published files of a table against the source')
  .option('--json', 'print a machine-readable result')
  .addOption(new Option('--layer <layer>', 'bucket layer').choices(['bronze', 'silver', 'gold']))
  .action(run(async function (this: Command) {
    return verifyCommand(createCliContext(this.optsWithGlobals(), {}, true), this.args[0]!, this.opts());
  }));

program
  .command('status')
  .argument('[run]', 'run id (default: recent runs)')
  .description('show a run, or the recent runs')
  .option('--json', 'print a machine-readable result')
  .action(run(async function (this: Command) {
    return statusCommand(createCliContext(this.optsWithGlobals(), {}, true), this.args[0], this.opts());
  }));

program
  .command('gc')
  .description('remove superseded published runs, abandoned unfinished runs and stale uploads')
  .option('-n, --dry-run', 'report what would be removed, remove nothing')
  .option('--older-than-hours <h>', 'remove unfinished runs only when older than this (default 24)')
  .option('--keep <n>', 'published runs kept per table (default: export.keepRuns)')
  .option('--json', 'print a machine-readable report')
  .action(run(async function (this: Command) {
    return gcCommand(createCliContext(this.optsWithGlobals(), {}, true), this.opts());
  }));

program
  .command('schedule')
  .description('apply the configured schedules (recurring migrations); workers run them')
  .option('--json', 'print a machine-readable result')
  .action(run(async function (this: Command) {
    return scheduleCommand(createCliContext(this.optsWithGlobals(), {}, true), this.opts());
  }));

program
  .command('seed')
  .description('create the sample Nova Corrente tables in the configured Postgres')
  .option('--rows <n>', 'rows in core.fact_demand_daily', '1000000')
  .option('--reseed', 'drop and recreate even if already seeded')
  .action(run(async function (this: Command) {
    return seedCommand(createCliContext(this.optsWithGlobals(), {}, true), this.opts());
  }));

program
  .command('demo')
  .description('seed the sample schema, migrate it into the lake, verify, and query it back')
  .option('--rows <n>', 'rows in core.fact_demand_daily', '1000000')
  .option('--reseed', 'drop and recreate the sample tables first')
  .action(run(async function (this: Command) {
    return demoCommand(createCliContext(this.optsWithGlobals(), {}, true), this.opts());
  }));

program
  .command('restore')
  .argument('<table>', 'schema.table as exported')
  .description('rollback: recreate a table in Postgres from a published run, verified before commit')
  .requiredOption('--into <url>', 'Postgres to restore into, e.g. postgres://user:pw@host:5432/db')
  .option('--run <id>', 'published run to restore (default: the current one)')
  .addOption(new Option('--layer <layer>', 'bucket layer (default: the table\'s configured layer, else bronze)').choices(['bronze', 'silver', 'gold']))
  .option('--as <schema.table>', 'restore under another name (default: the exported name)')
  .option('--replace', 'swap out an existing table, after the restored copy verified')
  .option('--json', 'print a machine-readable result')
  .action(run(async function (this: Command) {
    return (await import('./commands/restore.js')).restoreCommand(createCliContext(this.optsWithGlobals(), {}, true), this.args[0]!, this.opts());
  }));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`corrente: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
