/**
 * Turns driver and server errors into CorrenteErrors with a fix attached. Decisions are
 * made on SQLSTATE and Node error codes, never on message text.
 */
import { CorrenteError, type ErrorContext } from '../shared/errors.js';
import { redactUrls } from '../shared/redact.js';

interface PgLikeError extends Error {
  code?: string;
  errors?: unknown[];
}

const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN']);
/** SQLSTATEs after which a new attempt can succeed. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);

/**
 * Where we tried to connect, without the password: `host:port/database` from a URL or a
 * libpq keyword/value string, else the redacted text.
 */
export function describeTarget(url: string): string {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      const u = new URL(url);
      return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
    } catch {
      return redactUrls(url);
    }
  }
  const kv = new Map([...url.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (kv.has('host') || kv.has('dbname')) return `${kv.get('host') ?? 'localhost'}:${kv.get('port') ?? '5432'}/${kv.get('dbname') ?? ''}`;
  return redactUrls(url);
}

/** Maps an error thrown by `pg` to a CorrenteError (returns CorrenteErrors unchanged). */
export function mapPgError(err: unknown, target: string, context: ErrorContext = {}): Error {
  if (err instanceof CorrenteError) return err;
  const e = err as PgLikeError;
  const code = e?.code ?? (e?.errors?.[0] as PgLikeError | undefined)?.code;
  const msg = redactUrls(String(e?.message ?? err)).split('\n')[0] ?? '';
  if (code === 'ERR_INVALID_URL') {
    return new CorrenteError('CONFIG_INVALID', 'DATABASE_URL is not a valid connection URL', {
      ...context,
      cause: err,
      hint: 'Use postgres://user:password@host:5432/database (percent-encode special characters in the password)',
    });
  }
  if (code && UNREACHABLE_NODE_CODES.has(code)) {
    return new CorrenteError('POSTGRES_UNREACHABLE', `Cannot reach PostgreSQL at ${target} (${code})`, {
      ...context,
      cause: err,
      hint: 'Check Postgres is running and DATABASE_URL points at it',
    });
  }
  if (!code && /timeout/i.test(msg)) {
    return new CorrenteError('POSTGRES_UNREACHABLE', `Timed out connecting to PostgreSQL at ${target}`, {
      ...context,
      cause: err,
      hint: 'Check Postgres is running, reachable from this machine, and not out of connections',
    });
  }
  switch (code) {
    case '28P01':
    case '28000':
      return new CorrenteError('POSTGRES_AUTH', `PostgreSQL rejected the login at ${target}: ${msg}`, {
        ...context,
        cause: err,
        hint: 'Check the user and password in DATABASE_URL',
      });
    case '3D000':
      return new CorrenteError('CONFIG_INVALID', `PostgreSQL at ${target}: ${msg}`, {
        ...context,
        cause: err,
        hint: 'Fix the database name in DATABASE_URL',
      });
    case '42501':
      return new CorrenteError('PERMISSION_DENIED', `PostgreSQL denied access: ${msg}`, {
        ...context,
        cause: err,
        hint: 'Grant the export role USAGE on the schema and SELECT on the table (see README, "Least-privilege role")',
      });
    case '42P01':
      return new CorrenteError('TABLE_NOT_FOUND', `PostgreSQL: ${msg}`, { ...context, cause: err });
    case '25006':
      return new CorrenteError('POSTGRES_QUERY', `PostgreSQL refused a write in a read-only export: ${msg}`, { ...context, cause: err });
  }
  if (code && TRANSIENT_SQLSTATES.has(code)) {
    return new CorrenteError('POSTGRES_UNREACHABLE', `PostgreSQL connection lost or busy (${code}): ${msg}`, {
      ...context,
      cause: err,
      hint: 'Transient: the job is retried with backoff',
    });
  }
  if (/Connection terminated|connection.*closed|Client has encountered a connection error/i.test(msg)) {
    // pg reports a dropped socket without any code; treat as transient.
    return new CorrenteError('POSTGRES_UNREACHABLE', `PostgreSQL connection lost: ${msg}`, { ...context, cause: err });
  }
  return new CorrenteError('POSTGRES_QUERY', `PostgreSQL error${code ? ` ${code}` : ''}: ${msg}`, { ...context, cause: err });
}
