/**
 * The configuration schema: every option, its type and its default, in one place.
 * `corrente.yaml` (optional) and the environment are merged into this shape and
 * validated once at start-up; unknown keys are rejected by name.
 */
import { z } from 'zod';
import { TEXT_CHECKSUMS } from '../shared/fingerprint.js';
import { incrementalConfigSchema } from './incremental.js';
import { alertsSchema, historySchema, pipelinesSchema } from './pipeline-schema.js';

const positiveInt = z.number().int().positive();

/** Per-column override: keep a column as its Postgres text form. */
export const columnOverrideSchema = z.strictObject({
  /** `text` keeps the Postgres text form (lossless for every type). */
  as: z.enum(['text']),
});

/** A table to migrate, with per-table options. */
export const tableConfigSchema = z.strictObject({
  /** `schema.table` or a pattern (`core.*`); quote parts containing dots: `core."a.b"`. */
  name: z.string().min(3),
  /** Layer (bucket) to write into. */
  layer: z.enum(['bronze', 'silver', 'gold']).default('bronze'),
  /** Column overrides by exact column name. */
  columns: z.record(z.string(), columnOverrideSchema).default({}),
  /**
   * Export only what changed since the last published run: `{ column: updated_at, overlap: 10m }`
   * or `{ mode: xmin }`, with optional `deletes: keydiff` and `fullEvery: 7d` (README,
   * "Incremental export"). Absent: every run is a full export.
   */
  incremental: incrementalConfigSchema.optional(),
});

export const configSchema = z.strictObject({
  postgres: z
    .strictObject({
      /** libpq-style URL. Env: `DATABASE_URL`. */
      url: z.string().default('postgres://postgres@127.0.0.1:5432/postgres'),
      /**
       * Most exports running at once against this database across all workers (enforced
       * by the queue, in Redis), so adding workers cannot flood production. Each export
       * holds one COPY connection plus one for verification checksums.
       */
      maxConcurrentExports: positiveInt.default(2),
      /** Connection timeout, ms. */
      connectTimeoutMs: positiveInt.default(10_000),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /** Env: `REDIS_URL`. */
      url: z.string().default('redis://127.0.0.1:6379'),
      /** Prefix of every BullMQ and corrente key; lets several deployments share one Redis. */
      prefix: z.string().min(1).default('corrente'),
    })
    .prefault({}),
  storage: z
    .strictObject({
      /** `local` (default) writes to `lakeDir`; `s3` is chosen when an endpoint is set. */
      kind: z.enum(['local', 's3']).default('local'),
      /** Env: `LAKE_DIR`. */
      lakeDir: z.string().default('./lake'),
      s3: z
        .strictObject({
          /** Env: `MINIO_ENDPOINT` / `S3_ENDPOINT` / `AWS_ENDPOINT_URL`, e.g. `http://127.0.0.1:9000`. */
          endpoint: z.string().optional(),
          accessKey: z.string().optional(),
          secretKey: z.string().optional(),
          region: z.string().default('us-east-1'),
          /** Path-style URLs (`host/bucket/key`), which MinIO expects. */
          forcePathStyle: z.boolean().default(true),
          /** Create missing buckets instead of failing. */
          createBuckets: z.boolean().default(true),
        })
        .prefault({}),
      /** Bucket name per layer. */
      buckets: z
        .strictObject({
          bronze: z.string().default('bronze'),
          silver: z.string().default('silver'),
          gold: z.string().default('gold'),
        })
        .prefault({}),
    })
    .prefault({}),
  export: z
    .strictObject({
      /** Parquet compression codec. */
      compression: z.enum(['zstd', 'snappy']).default('zstd'),
      /**
       * zstd level (1-22). With `parquetVersion: v2`, 3 (DuckDB's default) is as fast as 1
       * and 10% smaller; 6 costs about twice the encoding CPU (bench/README.md).
       */
      compressionLevel: z.number().int().min(1).max(22).default(3),
      /**
       * Parquet format version. `v2` writes data page v2 with delta and byte-stream-split
       * encodings: on the fact table 4x smaller and ~45% less CPU than `v1` (measured).
       * Read by DuckDB, Arrow/pyarrow, Polars and Spark 3.3+; choose `v1` for older readers.
       */
      parquetVersion: z.enum(['v1', 'v2']).default('v2'),
      /**
       * Rows per Parquet row group; fewer for rows so wide that a group would pass 64 MB of
       * CSV. Lower it to bound the memory of wide tables (files grow: the 27-column bench
       * table is 6% larger at half of it, 37% at a third).
       */
      rowGroupRows: positiveInt.default(61_440),
      /**
       * Parquet megabytes per file: DuckDB starts a new file at the first row group that
       * takes a file past this, so every file but a range's last is at least this large.
       * Lake readers (Spark, Trino, Athena, DuckDB) favour files of 128 MB-1 GB. May be a
       * fraction (the fault tests cut small tables into many files with 0.1).
       */
      fileTargetMb: z.number().positive().default(128),
      /**
       * DuckDB memory budget per export, MB. A conversion gets more when its rows need it:
       * about 3.5x a row group's CSV bytes plus 64 MB (wide rows; below that DuckDB spills
       * the row group to `workDir`, 20-30% slower), or 4.5x the longest line.
       */
      duckdbMemoryMb: positiveInt.default(128),
      /**
       * DuckDB threads per conversion. 1 measured as fast as 2 on a 2-core machine (Postgres
       * and the worker already fill both cores) with ~10% less CPU and RSS. Wide text rows,
       * where one DuckDB thread is slower than the COPY: DuckDB alone converts them ~1.9x
       * faster on 2, but a whole export on 2 cores gained little (the 27-column bench table:
       * 5.8-7.6 s vs 6.5-7.8 s) while the file grew 27-32% (DuckDB's writer gives up
       * dictionaries on 2 threads) and the process ~180 MB. Worth it only with idle cores.
       */
      duckdbThreads: positiveInt.default(1),
      /**
       * DuckDB threads when verification reads the files back (the export's cores are free
       * by then): 2 measured 0.33 s vs 0.55 s for the 5M-row fact table.
       */
      verifyThreads: positiveInt.default(2),
      /** Largest single row (CSV line) accepted, MB. */
      maxRowMb: positiveInt.default(256),
      /**
       * Tables whose heap is larger than this are split into ranges of about this size,
       * exported as separate jobs (any worker) from one shared snapshot.
       */
      chunkMb: positiveInt.default(1024),
      /**
       * Where temporary files go (Parquet files until uploaded, named pipes, DuckDB spill);
       * defaults to the OS temp dir. What a killed process left there is removed by the next
       * worker that starts on the same host.
       */
      workDir: z.string().optional(),
      /** Verify each export with DuckDB before publishing it. */
      verify: z.boolean().default(true),
      /**
       * How verification checks text, JSON, UUID, time and binary values: `md5` (any
       * change), `length` (counts and byte lengths; much cheaper for Postgres), or `auto`
       * (md5 for uuid, time and bytea, which DuckDB converts; lengths for text and JSON,
       * stored byte for byte). Costs measured in bench/README.md.
       */
      textChecksum: z.enum(TEXT_CHECKSUMS).default('auto'),
      /**
       * Parallel workers Postgres may add to the source checksum query (its
       * `max_parallel_workers_per_gather`). With 0 the query is one backend, which runs
       * beside the export's COPY and usually finishes first (when it does not, the
       * `checksumWait` stage says so: raise this if Postgres has idle cores). Measured on
       * 2 cores shared with Postgres, against Postgres' default of 2: exports ~10% faster at
       * 5M fact rows (10 alternating pairs, 9 won) and 8-16% at 20M (3 of 3), bench/README.md.
       */
      checksumWorkers: z.number().int().min(0).max(64).default(0),
      /** Published runs kept per table (older ones are removed by `gc`). */
      keepRuns: positiveInt.default(3),
    })
    .prefault({}),
  worker: z
    .strictObject({
      /**
       * Env: `WORKER_CONCURRENCY`. Export and verify jobs one worker process runs at once, in
       * total over the queues it serves (schedule firings, which only enqueue, are not counted).
       */
      concurrency: positiveInt.default(1),
      /** Attempts per job before it fails (transient errors only). */
      attempts: positiveInt.default(3),
      /** First retry delay, ms (exponential). */
      backoffMs: positiveInt.default(2_000),
      /** A job running longer than this is aborted and failed. */
      jobTimeoutMinutes: positiveInt.default(240),
      /** On SIGTERM, how long running jobs may finish before they are aborted (and retried elsewhere). */
      shutdownGraceSeconds: positiveInt.default(30),
      /**
       * How long a job's lock lasts without renewal: a worker that dies (kill -9, lost
       * machine) has its jobs taken by another worker within about 1.5x this.
       */
      lockSeconds: positiveInt.default(60),
    })
    .prefault({}),
  /** SQL models (silver and gold) run by `corrente transform` with DuckDB over the lake. */
  transform: z
    .strictObject({
      /** Directory holding `silver/*.sql`, `gold/*.sql` and `tests/*.sql`, relative to the working directory. */
      dir: z.string().default('./transforms'),
      /** DuckDB memory budget per model, MB; larger inputs spill to `tempDir`. */
      memoryMb: positiveInt.default(256),
      /** DuckDB threads per model. */
      threads: positiveInt.default(2),
      /** Models run at once (independent ones only). */
      concurrency: positiveInt.default(2),
      /** Spill directory and staging area; defaults to `export.workDir`, else the OS temp dir. */
      workDir: z.string().optional(),
      /** Where inputs read from S3 are cached, by run id; defaults to `<workDir>/corrente-cache`. */
      cacheDir: z.string().optional(),
      /** Rows per Parquet output file before a new file is started. */
      fileRows: positiveInt.default(10_000_000),
      /** Failing rows shown per failed data test (all are kept in the audit file). */
      sampleRows: positiveInt.default(5),
    })
    .prefault({}),
  /** The HTTP backend (`corrente serve`): data over the current gold runs, health, metrics, queue UI. */
  api: z
    .strictObject({
      /** Env: `PORT`. */
      port: z.number().int().min(0).max(65535).default(5000),
      /** Env: `CORRENTE_API_HOST`. Listen address; `0.0.0.0` in containers (then admin routes need `token`). */
      host: z.string().default('127.0.0.1'),
      /** Env: `CORRENTE_API_TOKEN`. Bearer token for admin routes (queue UI); required when `host` is not loopback. */
      token: z.string().min(16, 'use at least 16 characters').optional(),
      /** Largest page a data request may ask for. */
      maxPageSize: positiveInt.default(10_000),
      /** Page size when `limit` is not given. */
      defaultPageSize: positiveInt.default(100),
      /** How often, at most, the current runs are re-read (ms): a publish is served within this delay. */
      refreshMs: z.number().int().min(0).default(1000),
      /** DuckDB memory budget for queries, MB. */
      memoryMb: positiveInt.default(512),
      /**
       * DuckDB threads for queries. One: requests come concurrently (`connections`), and
       * each small query on its own thread costs less CPU than queries sharing a second
       * worker (bench/README.md, "The API"); raise it for large downloads on more cores.
       */
      threads: positiveInt.default(1),
      /** Queries run at once; more wait. */
      connections: positiveInt.default(4),
      /** Where files of an S3 lake are cached by run id; defaults to `<tmp>/corrente-cache`. */
      cacheDir: z.string().optional(),
      /** Size bound of that cache, MB: the least recently used runs that are not current are removed beyond it. */
      cacheMb: positiveInt.default(4096),
    })
    .prefault({}),
  /**
   * Tables `migrate` exports when `--tables` is not given: `schema.table` names or patterns
   * (`core.*`, `core.fact_*`: `*` matches any characters) over the tables, views and
   * materialized views the role can read.
   */
  tables: z
    .array(z.union([z.string().min(3), tableConfigSchema]))
    // The sample facts refresh incrementally (the shipped nightly-refresh relies on it):
    // demand by its updated_at stamp, deletes found by key diff; forecasts, which have no
    // update stamp, by transaction ids.
    .prefault([
      'core.dim_item',
      { name: 'core.fact_demand_daily', incremental: { column: 'updated_at', overlap: '10m', deletes: 'keydiff' } },
      { name: 'analytics.fact_forecasts', incremental: { mode: 'xmin' } },
    ]),
  /** Names or patterns of tables never exported, even when `tables:` or `--tables` pick them (e.g. `core.tmp_*`). */
  exclude: z.array(z.string().min(3)).default([]),
  /**
   * Recurring migrations (the nightly refreshes that replace the Airflow DAGs), applied
   * with `corrente schedule` and fired by the workers.
   */
  schedules: z
    .array(
      z.strictObject({
        /** Stable id; re-applying a schedule with the same id updates it. */
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'use 1-64 letters, digits, dots, dashes or underscores'),
        /** Cron pattern (5 or 6 fields), e.g. `0 2 * * *` for 02:00 every day. */
        cron: z.string().min(1),
        /** IANA time zone the pattern is read in. */
        tz: z.string().default('UTC'),
        /** Tables to migrate, `schema.table`. */
        tables: z.array(z.string().min(3)).min(1),
      }),
    )
    .default([]),
  /**
   * Pipelines: named DAGs of tasks (export, transform, command, publish, gc) with `needs:`,
   * an optional schedule, and run policies (README, "Pipelines"). Run by `corrente run`,
   * `corrente scheduler` and the workers.
   */
  pipelines: pipelinesSchema,
  /** Webhook alerts for every pipeline (a pipeline's own `alerts:` overrides it). */
  alerts: alertsSchema.optional(),
  /** How long pipeline run history is kept. */
  history: historySchema,
  log: z
    .strictObject({
      /** Env: `LOG_LEVEL`. Unset: `info` for workers, `warn` for commands with a live display. */
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
      /** Env: `CORRENTE_DEBUG`. Print the stack trace of unexpected (non-corrente) errors after their line. */
      stackTraces: z.boolean().default(false),
    })
    .prefault({}),
});

/** The raw config input (YAML + env), before defaults. */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated config with every default applied. */
export type Config = z.output<typeof configSchema>;
export type TableConfig = z.output<typeof tableConfigSchema>;
export type StorageConfig = Config['storage'];
export type PostgresConfig = Config['postgres'];
export type RedisConfig = Config['redis'];
export type ExportConfig = Config['export'];
export type TransformConfig = Config['transform'];
export type ApiConfig = Config['api'];
export type PipelinesConfig = Config['pipelines'];
export type HistoryConfig = Config['history'];
