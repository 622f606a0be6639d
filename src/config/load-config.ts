/**
 * Loads the configuration once: optional YAML file, then environment overrides (with a
 * `.env` file in the working directory under them), then validation. The only module
 * that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ZodError } from 'zod';
import { CorrenteError } from '../shared/errors.js';
import { assertPipelinesValid } from './pipelines.js';
import { assertSchedulesValid } from './schedules.js';
import { configSchema, type Config } from './schema.js';

export interface LoadConfigOptions {
  /** Environment to read. @defaultValue `process.env` */
  env?: NodeJS.ProcessEnv;
  /**
   * A dotenv file whose variables apply where `env` does not set them (variables already
   * in the environment win); skipped when it does not exist. `false` reads none.
   * @defaultValue `.env` in the working directory when `env` is not given, else none
   */
  envFile?: string | false;
  /**
   * YAML file path. @defaultValue `CORRENTE_CONFIG`, else `./corrente.yaml` when it exists
   */
  file?: string;
  /** Values applied last (CLI flags), in config shape. */
  overrides?: Record<string, unknown>;
  /**
   * Check that every schedule's cron pattern parses and its time zone exists. Processes
   * that never read a schedule (an export worker) skip it: the check loads ICU's time
   * zone data, ~5 MB of resident memory for the rest of the process's life. Only the CLI's
   * `migrate` and `worker` skip it; the scheduler will not start on a bad schedule.
   * @defaultValue true
   */
  checkSchedules?: boolean;
}

/**
 * Builds the validated, frozen config.
 * @throws CorrenteError `CONFIG_INVALID` naming the file, key or variable at fault.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const envFile = options.envFile ?? (options.env ? false : '.env');
  const env = envFile === false ? (options.env ?? process.env) : { ...readEnvFile(envFile), ...(options.env ?? process.env) };
  const file = options.file ?? env.CORRENTE_CONFIG;
  const fromFile = readYaml(file ?? 'corrente.yaml', file !== undefined);
  const merged = withStorageKind(deepMerge(deepMerge(fromFile, fromEnv(env)), options.overrides ?? {}));
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw configError(parsed.error, file);
  const config = parsed.data;
  if (config.storage.kind === 's3' && !config.storage.s3.endpoint) {
    throw new CorrenteError('CONFIG_INVALID', 'storage.kind is s3 but no S3 endpoint is set', {
      option: 'storage.s3.endpoint',
      hint: 'Set MINIO_ENDPOINT (e.g. http://127.0.0.1:9000) or storage.s3.endpoint in corrente.yaml',
    });
  }
  const times = options.checkSchedules ?? true;
  assertSchedulesValid(config.schedules, { times });
  assertPipelinesValid(config.pipelines, { times });
  hideSecret(config.storage.s3, 'secretKey');
  return deepFreeze(config);
}

/** The variables of a dotenv file (`KEY=value` lines, `#` comments, quotes); none when it does not exist. */
function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CorrenteError('CONFIG_INVALID', `Cannot read ${path}: ${(err as Error).message}`, {
      hint: 'Make the file readable, or remove it (corrente reads .env from the working directory when present)',
    });
  }
  return parseEnv(text) as Record<string, string>;
}

function readYaml(path: string, required: boolean): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CorrenteError('CONFIG_INVALID', `Cannot read config file ${path}: ${(err as Error).message}`, {
      hint: 'Check the path given in CORRENTE_CONFIG',
    });
  }
  try {
    const doc: unknown = parseYaml(text);
    if (doc === null || doc === undefined) return {};
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new CorrenteError('CONFIG_INVALID', `Config file ${path} must hold a mapping at the top level`, {
        hint: 'Start the file with keys such as `tables:` or `storage:`',
      });
    }
    return doc as Record<string, unknown>;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      throw new CorrenteError('CONFIG_INVALID', `Config file ${path} is not valid YAML${where}: ${err.message.split('\n')[0]}`, {
        hint: 'Fix the YAML syntax (indentation, colons, quotes)',
      });
    }
    throw err;
  }
}

/** Environment variables and the config paths they set. */
const ENV_KEYS: ReadonlyArray<readonly [string, string, 'string' | 'int' | 'bool']> = [
  ['DATABASE_URL', 'postgres.url', 'string'],
  ['PG_MAX_CONCURRENT_EXPORTS', 'postgres.maxConcurrentExports', 'int'],
  ['REDIS_URL', 'redis.url', 'string'],
  ['CORRENTE_REDIS_PREFIX', 'redis.prefix', 'string'],
  ['LAKE_DIR', 'storage.lakeDir', 'string'],
  ['AWS_ENDPOINT_URL', 'storage.s3.endpoint', 'string'],
  ['S3_ENDPOINT', 'storage.s3.endpoint', 'string'],
  ['MINIO_ENDPOINT', 'storage.s3.endpoint', 'string'],
  ['AWS_ACCESS_KEY_ID', 'storage.s3.accessKey', 'string'],
  ['S3_ACCESS_KEY_ID', 'storage.s3.accessKey', 'string'],
  ['MINIO_ACCESS_KEY', 'storage.s3.accessKey', 'string'],
  ['AWS_SECRET_ACCESS_KEY', 'storage.s3.secretKey', 'string'],
  ['S3_SECRET_ACCESS_KEY', 'storage.s3.secretKey', 'string'],
  ['MINIO_SECRET_KEY', 'storage.s3.secretKey', 'string'],
  ['AWS_REGION', 'storage.s3.region', 'string'],
  ['S3_REGION', 'storage.s3.region', 'string'],
  ['MINIO_REGION', 'storage.s3.region', 'string'],
  ['WORKER_CONCURRENCY', 'worker.concurrency', 'int'],
  ['LOG_LEVEL', 'log.level', 'string'],
  ['PORT', 'api.port', 'int'],
  ['CORRENTE_API_HOST', 'api.host', 'string'],
  ['CORRENTE_API_TOKEN', 'api.token', 'string'],
  ['CORRENTE_DEBUG', 'log.stackTraces', 'bool'],
];

/** Later entries of ENV_KEYS win, so MINIO_* beats S3_* beats AWS_*. */
function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, path, type] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(out, path, convert(name, raw, type));
  }
  const endpoint = (out.storage as { s3?: { endpoint?: string } } | undefined)?.s3?.endpoint;
  if (endpoint !== undefined) {
    // An endpoint in the environment is the stronger, later layer: it selects S3.
    setPath(out, 'storage.kind', 's3');
    if (!/^https?:\/\//.test(endpoint)) {
      const ssl = env.MINIO_USE_SSL === undefined ? false : convert('MINIO_USE_SSL', env.MINIO_USE_SSL, 'bool');
      setPath(out, 'storage.s3.endpoint', `${ssl ? 'https' : 'http'}://${endpoint}`);
    }
  }
  return out;
}

/** An S3 endpoint (from file or env) selects S3 storage unless `storage.kind` says otherwise. */
function withStorageKind(merged: Record<string, unknown>): Record<string, unknown> {
  const storage = merged.storage as { kind?: unknown; s3?: { endpoint?: unknown } } | undefined;
  if (storage && typeof storage.s3?.endpoint === 'string' && storage.kind === undefined) storage.kind = 's3';
  return merged;
}

function convert(name: string, raw: string, type: 'string' | 'int' | 'bool'): unknown {
  if (type === 'string') return raw;
  if (type === 'int') {
    if (!/^\d+$/.test(raw.trim())) {
      throw new CorrenteError('CONFIG_INVALID', `${name}=${JSON.stringify(raw)} is not a whole number`, {
        option: name,
        hint: `Set ${name} to a positive integer`,
      });
    }
    return Number(raw);
  }
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new CorrenteError('CONFIG_INVALID', `${name}=${JSON.stringify(raw)} is not a boolean`, {
    option: name,
    hint: `Set ${name} to true or false`,
  });
}

/**
 * The issue to report. A union (a `tables:` entry is a name or an object) fails as a whole;
 * the branch of the right type holds the real problem, with its full path.
 */
function innermostIssue(issue: ZodError['issues'][number]): ZodError['issues'][number] {
  if (issue.code !== 'invalid_union') return issue;
  const branch = issue.errors.find((issues) => issues.length > 0 && !(issues[0]!.code === 'invalid_type' && issues[0]!.path.length === 0));
  const inner = branch?.[0];
  return inner ? innermostIssue({ ...inner, path: [...issue.path, ...inner.path] }) : issue;
}

function configError(error: ZodError, file: string | undefined): CorrenteError {
  const issue = innermostIssue(error.issues[0]!);
  const path = issue.path.join('.');
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const where = file ? ` (in ${file} or the environment)` : '';
  if (keys.length > 0) {
    const full = keys.map((k) => (path ? `${path}.${k}` : k)).join(', ');
    return new CorrenteError('CONFIG_INVALID', `Unknown config key ${full}${where}`, {
      option: full,
      hint: 'Remove it or fix its spelling; see the Configuration section of the README for valid keys',
    });
  }
  return new CorrenteError('CONFIG_INVALID', `Invalid config value at ${path || '(root)'}${where}: ${issue.message}`, {
    option: path,
    hint: 'See the Configuration section of the README for allowed values',
  });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Keeps the secret usable but out of JSON.stringify, logs and inspection. */
function hideSecret(obj: object, key: string): void {
  const value = (obj as Record<string, unknown>)[key];
  Object.defineProperty(obj, key, { value, enumerable: false, writable: false });
}

function deepFreeze<T>(obj: T): T {
  if (obj && typeof obj === 'object') {
    for (const v of Object.values(obj)) deepFreeze(v);
    Object.freeze(obj);
  }
  return obj;
}
