#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --optimize-for-size
/**
 * The `corrente` command line. The only place (with the worker entry point) that exits
 * the process: every failure becomes one line on stderr and a non-zero exit code.
 *
 * Only commander is loaded up front. Each command's module (and with it the config schema,
 * the logger and whichever SDKs it needs: pg, DuckDB, the AWS SDK, BullMQ) is imported
 * when that command runs, so `--help` and `--version` start as fast as Node itself
 * (loading every SDK took ~0.8 s, measured in bench/README.md).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { describeError, isCorrenteError, type CorrenteError } from '../src/shared/errors.js';
import type { CliContext, GlobalFlags } from './cli-context.js';
import { packageVersion } from './package-version.js';
import { usageErrorLine } from './usage-error.js';

// The AWS SDK warns on every S3 call under Node 20 (support ends in 2027); that notice is
// for us, not for users, and would break the one-line error contract on stderr.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning instanceof Error ? warning.message : warning).startsWith('NodeVersionSupportWarning')) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

/** Exit code of a usage error (unknown option or command, missing or bad argument). */
const USAGE_EXIT_CODE = 2;

/** Exit codes: 0 ok, 1 the work failed, 2 bad input or configuration, 3 a service is unreachable. */
function exitCodeFor(err: unknown): number {
  if (!isCorrenteError(err)) return 1;
  if (['CONFIG_INVALID', 'TABLE_NOT_FOUND', 'TABLE_EXISTS', 'RUN_NOT_FOUND', 'RUN_STATE', 'PERMISSION_DENIED', 'POSTGRES_AUTH', 'STORAGE_AUTH', 'STORAGE_BUCKET_MISSING'].includes(err.code)) return 2;
  if (['POSTGRES_UNREACHABLE', 'REDIS_UNREACHABLE', 'STORAGE_UNREACHABLE'].includes(err.code)) return 3;
  return 1;
}

interface ActionOptions {
  /** Config overrides from this command's flags, in config shape. */
  overrides?: (cmd: Command) => Record<string, unknown>;
  /** Log only warnings unless a level is asked for (commands with a live display). */
  quiet?: boolean;
  /**
   * The command never reads a schedule (an export worker): skip the cron and time zone
   * checks, which cost ~5 MB of RSS (`LoadConfigOptions.checkSchedules`).
   */
  schedulesUnused?: boolean;
  /** Runs instead of the body when the config is invalid (doctor reports it as a check). */
  onConfigError?: (err: CorrenteError, cmd: Command) => Promise<number>;
}

/**
 * Wraps a command body: builds the context (config, logger) on demand, runs the body, and
 * turns its outcome into the exit code and at most one error line.
 */
function action(body: (ctx: CliContext, cmd: Command) => Promise<number>, options: ActionOptions = {}) {
  return async function (this: Command): Promise<void> {
    let debug = false;
    try {
      const { createCliContext } = await import('./cli-context.js');
      let ctx: CliContext | undefined;
      try {
        ctx = createCliContext(this.optsWithGlobals<GlobalFlags>(), options.overrides?.(this) ?? {}, options.quiet ?? true, !options.schedulesUnused);
      } catch (err) {
        if (!options.onConfigError || !isCorrenteError(err) || err.code !== 'CONFIG_INVALID') throw err;
        process.exitCode = await options.onConfigError(err, this);
      }
      if (ctx) {
        debug = ctx.config.log.stackTraces;
        process.exitCode = await body(ctx, this);
      }
    } catch (err) {
      process.stderr.write(`corrente: ${describeError(err)}\n`);
      if (!isCorrenteError(err) && debug) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
      process.exitCode = exitCodeFor(err);
    }
    // Open handles (sockets in backoff) must not keep a finished command alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
  };
}

/** Commander parser for a whole number >= 1 (e.g. `--concurrency`). */
function positiveWholeNumber(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('Expected a whole number >= 1.');
  return Number(value);
}

// Commander's own messages (help shown after `corrente` alone, usage errors) are collected
// here and rendered once in the catch below: one line on stderr, never two.
let commanderStderr = '';

const program = new Command('corrente')
  .description('Move PostgreSQL tables to exact, verified Parquet in object storage')
  .configureOutput({ writeErr: (text) => void (commanderStderr += text), outputError: () => {} })
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('-c, --config <file>', 'YAML config file (default: ./corrente.yaml if present, or $CORRENTE_CONFIG); ./.env is read too')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .exitOverride();

program
  .command('migrate')
  .description('enqueue one export job per table and print the run id')
  .option('-t, --tables <list>', "comma-separated schema.table names or patterns such as 'core.*' (default: the configured tables)")
  .option('-x, --exclude <list>', "comma-separated names or patterns to leave out, e.g. 'core.tmp_*' (added to the configured exclude)")
  .option('-w, --wait', 'wait for the run, showing progress per table')
  .option('-i, --inline', 'also run a worker in this process (implies --wait)')
  .option('--json', 'print a machine-readable result')
  .option('--run-id <id>', 'use this run id (enqueuing the same run twice adds nothing)')
  .option('--full-refresh', 'export tables configured with incremental: in full, restarting their increments')
  .action(action(async (ctx, cmd) => (await import('./commands/migrate.js')).migrateCommand(ctx, cmd.opts()), { schedulesUnused: true }));

program
  .command('worker')
  .description('run a worker: takes export, verify, pipeline and transform jobs until SIGTERM')
  .option('--concurrency <n>', 'export and verify jobs this process runs at once, in total over its queues (default: WORKER_CONCURRENCY or 1)', positiveWholeNumber)
  .option('--queues <list>', 'queues to serve: export, verify, schedule, pipeline, transform (default all)')
  .action(
    action(async (ctx, cmd) => (await import('./commands/worker.js')).workerCommand(ctx, cmd.opts()), {
      quiet: false,
      // Pipeline jobs read schedules, but only once the scheduler or `pipeline run`, which
      // check them, has queued them.
      schedulesUnused: true,
      overrides: (cmd) => {
        const n = cmd.opts<{ concurrency?: number }>().concurrency;
        return n !== undefined ? { worker: { concurrency: n } } : {};
      },
    }),
  );

program
  .command('verify')
  .argument('<table>', 'schema.table')
  .description('re-verify the published files of a table against the source')
  .option('--json', 'print a machine-readable result')
  .addOption(new Option('--layer <layer>', 'bucket layer').choices(['bronze', 'silver', 'gold']))
  .action(action(async (ctx, cmd) => (await import('./commands/verify.js')).verifyCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('status')
  .argument('[run]', 'run id (default: recent runs)')
  .description('show a run, or the recent runs')
  .option('--json', 'print a machine-readable result')
  .action(action(async (ctx, cmd) => (await import('./commands/status.js')).statusCommand(ctx, cmd.args[0], cmd.opts())));

program
  .command('gc')
  .description('remove superseded published runs, abandoned unfinished runs and stale uploads')
  .option('-n, --dry-run', 'report what would be removed, remove nothing')
  .option('--older-than-hours <h>', 'remove unfinished runs only when older than this (default 24)')
  .option('--keep <n>', 'published runs kept per table (default: export.keepRuns)')
  .option('--json', 'print a machine-readable report')
  .action(action(async (ctx, cmd) => (await import('./commands/gc.js')).gcCommand(ctx, cmd.opts())));

program
  .command('schedule')
  .description('apply the configured schedules once (pipelines and table migrations); workers run them')
  .option('--json', 'print a machine-readable result')
  .action(action(async (ctx, cmd) => (await import('./commands/schedule.js')).scheduleCommand(ctx, cmd.opts())));

program
  .command('seed')
  .description('create the sample Nova Corrente tables in the configured Postgres')
  .option('--rows <n>', 'rows in core.fact_demand_daily', '1000000')
  .option('--reseed', 'drop and recreate even if already seeded')
  .action(action(async (ctx, cmd) => (await import('./commands/seed.js')).seedCommand(ctx, cmd.opts())));

program
  .command('demo')
  .description('seed the sample schema, migrate it into the lake, verify, and query it back')
  .option('--rows <n>', 'rows in core.fact_demand_daily', '1000000')
  .option('--reseed', 'drop and recreate the sample tables first')
  .action(action(async (ctx, cmd) => (await import('./commands/demo.js')).demoCommand(ctx, cmd.opts())));

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
  .action(action(async (ctx, cmd) => (await import('./commands/restore.js')).restoreCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('sql')
  .argument('<query>', 'DuckDB SQL over the current tables, e.g. "SELECT count(*) FROM bronze.fact_demand_daily"')
  .description('query the current run of every published table with DuckDB (views <layer>."<schema>.<table>")')
  .option('--json', 'print rows as a JSON array of objects')
  .option('--csv', 'print rows as CSV with a header')
  .action(action(async (ctx, cmd) => (await import('./commands/sql.js')).sqlCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('path')
  .argument('<table>', 'schema.table')
  .description("print the current run's Parquet files of a table, for other engines")
  .addOption(new Option('--layer <layer>', 'bucket layer (default: the one layer that has the table)').choices(['bronze', 'silver', 'gold']))
  .option('--glob', 'print one glob over the run directory instead of the file list')
  .option('--json', 'print run id, snapshot time, files and glob')
  .action(action(async (ctx, cmd) => (await import('./commands/path.js')).pathCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('doctor')
  .description('check Postgres, Redis, object storage, DuckDB and the config; prints the fix for each failure')
  .option('--json', 'print every check as JSON')
  .action(
    action(async (ctx, cmd) => (await import('./commands/doctor.js')).doctorCommand(ctx, cmd.opts()), {
      onConfigError: async (err, cmd) => (await import('./commands/doctor.js')).doctorWithoutConfig(err, cmd.opts()),
    }),
  );

program
  .command('serve')
  .description('serve the HTTP API (data over the current runs, /health, /metrics, /admin/queues) and the dashboard')
  .option('-p, --port <port>', 'port (default: PORT or api.port, 5000)', positiveWholeNumber)
  .option('--host <address>', 'listen address (default: CORRENTE_API_HOST or api.host, 127.0.0.1); beyond localhost, admin routes need CORRENTE_API_TOKEN')
  .addHelpText(
    'after',
    `
Examples:
  corrente serve                                  http://127.0.0.1:5000/ (dashboard), /docs (OpenAPI)
  curl http://localhost:5000/health
  curl 'http://localhost:5000/api/tables/gold/demand_vs_forecast/rows?item_id=eq.1&week_start=gte.2025-01-01&limit=10'`,
  )
  .action(
    action(async (ctx) => (await import('./commands/serve.js')).serveCommand(ctx), {
      quiet: false,
      overrides: (cmd) => {
        const o = cmd.opts<{ port?: number; host?: string }>();
        return { api: { ...(o.port !== undefined ? { port: o.port } : {}), ...(o.host !== undefined ? { host: o.host } : {}) } };
      },
    }),
  );

program
  .command('transform')
  .argument('[model...]', 'models or selectors to run (default: all): name, tag:<tag>, +name (with its inputs), name+ (with what reads it)')
  .description('run SQL models (silver, gold) and their data tests in DAG order, one job per model for `corrente worker`; publish each only if its tests pass')
  .option('-s, --select <selector...>', 'selectors, as the arguments: tag:daily, +demand_vs_forecast, items+')
  .option('-w, --wait', 'wait for the queued run, showing each model as it ends')
  .option('-i, --inline', 'run the models in this process instead (no Redis, no worker; implies --wait)')
  .option('--full-refresh', 'rebuild every selected model, also those whose inputs, SQL and options did not change')
  .option('--list', 'print the selected models in DAG order with their inputs, run nothing')
  .option('--graph', 'print the DAG as a Mermaid flowchart, run nothing')
  .option('--json', 'print a machine-readable result')
  .option('--run-id <id>', 'use this run id for every model of the run (queuing the same run twice adds nothing)')
  .addHelpText(
    'after',
    `
Models are transforms/silver/*.sql and transforms/gold/*.sql (transform.dir); each reads
{{ source('schema', 'table') }} (an exported table) and {{ ref('model') }}. A model whose
current run read the same input runs with the same SQL and options is reported up to date
and not rebuilt; --full-refresh rebuilds it anyway.

Examples:
  corrente transform --wait                       queue every model (any corrente worker builds them) and follow
  corrente transform --inline                     build every model in this process
  corrente transform --list                       the DAG in order, with inputs
  corrente transform --graph > dag.mmd            Mermaid flowchart
  corrente transform +demand_vs_forecast --wait   the mart and everything it reads
  corrente transform items+ --inline              a silver model and everything downstream
  corrente transform --inline --full-refresh      rebuild every model, changed or not
  corrente transform --select tag:daily --wait --json   models tagged daily, JSON result`,
  )
  .action(action(async (ctx, cmd) => (await import('./commands/transform.js')).transformCommand(ctx, cmd.args, cmd.opts()), { quiet: true }));

program
  .command('publish')
  .argument('<files...>', 'Parquet or CSV files (or a glob such as out/forecasts-*.parquet)')
  .description('publish files made outside corrente (e.g. ML forecasts) as a run of a silver or gold table, checked and tested first')
  .requiredOption('-t, --table <layer.name>', 'the table: silver.<name> or gold.<name>, e.g. gold.fact_forecasts')
  .addOption(new Option('--format <format>', 'input format (default: csv for .csv files, else parquet)').choices(['parquet', 'csv']))
  .option('--key <columns>', 'comma-separated key columns: unique, recorded as the primary key (default: the contract\'s)')
  .option('--json', 'print a machine-readable result')
  .option('--run-id <id>', 'use this run id')
  .addHelpText(
    'after',
    `
The contract is the table's model options (transforms/<layer>/<name>.sql or .yml), else the
columns of its current run: a missing column, a type change, a NULL in a NOT NULL column or
a failing test is refused, and nothing is published.

Examples:
  corrente publish out/forecasts.parquet --table gold.fact_forecasts --key forecast_id
  corrente publish 'out/part-*.csv' --table gold.fact_forecasts --format csv`,
  )
  .action(action(async (ctx, cmd) => (await import('./commands/publish.js')).publishCommand(ctx, cmd.args, cmd.opts())));

program
  .command('run')
  .argument('<pipeline>', 'a pipeline configured under `pipelines:`')
  .description('start a run of a pipeline (workers run its tasks); --wait follows it task by task')
  .option('-w, --wait', 'wait for the run, printing each task as it changes; exit 1 if it fails')
  .option('--json', 'print the run as JSON')
  .action(action(async (ctx, cmd) => (await import('./commands/pipeline-run.js')).runCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('runs')
  .argument('[pipeline-or-run]', 'a pipeline (its history) or a run id (its tasks and logs); default: every pipeline')
  .description('pipeline run history: run id, trigger, interval, start, seconds, state per task, rows, error')
  .option('--limit <n>', 'most runs shown (default 20)', positiveWholeNumber)
  .option('--logs', 'with a run id: print whole task logs, not the last lines')
  .option('--json', 'print the runs as JSON')
  .action(action(async (ctx, cmd) => (await import('./commands/pipeline-ops.js')).runsCommand(ctx, cmd.args[0], cmd.opts())));

for (const [name, description] of [
  ['pause', 'pause a pipeline: schedule firings are dropped and queued runs wait (the active run finishes)'],
  ['resume', 'resume a paused pipeline and start its oldest queued run'],
] as const) {
  program
    .command(name)
    .argument('<pipeline>', 'a configured pipeline')
    .description(description)
    .option('--json', 'print the result as JSON')
    .action(action(async (ctx, cmd) => (await import('./commands/pipeline-ops.js'))[name === 'pause' ? 'pauseCommand' : 'resumeCommand'](ctx, cmd.args[0]!, cmd.opts())));
}

program
  .command('cancel')
  .argument('<run>', 'pipeline run id (see corrente runs)')
  .description('cancel a pipeline run: running tasks are aborted, waiting ones never start, nothing more is published')
  .option('--json', 'print the run as JSON')
  .action(action(async (ctx, cmd) => (await import('./commands/pipeline-ops.js')).cancelCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('retry')
  .argument('<run>', 'a failed, cancelled or skipped pipeline run id')
  .description('re-run only the failed, skipped and cancelled tasks of a pipeline run')
  .option('-w, --wait', 'wait for the run; exit 1 if it fails again')
  .option('--json', 'print the run as JSON')
  .action(action(async (ctx, cmd) => (await import('./commands/pipeline-ops.js')).retryCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('backfill')
  .argument('<pipeline>', 'a pipeline with a schedule')
  .description('one run per schedule interval starting between two days (both included), oldest first; completed intervals are left alone, failed ones retried')
  .requiredOption('--from <date>', 'first day, YYYY-MM-DD in the pipeline time zone (or an ISO date-time)')
  .requiredOption('--to <date>', 'last day, included (or an ISO date-time, excluded)')
  .option('-w, --wait', 'wait for every run; exit 1 if one fails')
  .option('--json', 'print the runs as JSON')
  .action(action(async (ctx, cmd) => (await import('./commands/pipeline-run.js')).backfillCommand(ctx, cmd.args[0]!, cmd.opts())));

program
  .command('scheduler')
  .description('long-running: apply schedules at start and on config changes, catch up missed intervals; runs no work')
  .action(action(async (ctx, cmd) => (await import('./commands/scheduler.js')).schedulerCommand(ctx, cmd.optsWithGlobals()), { quiet: false }));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.help') {
      // `corrente` without a command: the help goes to stdout, the complaint is one line.
      process.stdout.write(commanderStderr);
      process.stderr.write(`corrente: no command given. Choose one of: ${program.commands.map((c) => c.name()).join(', ')} (corrente --help)\n`);
      process.exitCode = USAGE_EXIT_CODE;
    } else if (err.exitCode === 0) {
      process.exitCode = 0; // --help, --version
    } else {
      process.stderr.write(`${usageErrorLine(err.message, process.argv.slice(2), program.commands.map((c) => c.name()))}\n`);
      process.exitCode = USAGE_EXIT_CODE;
    }
  } else {
    process.stderr.write(`corrente: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
