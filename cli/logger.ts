/**
 * The process logger: pino JSON lines on stderr (stdout stays for results and `--json`),
 * with credentials redacted.
 */
import { pino } from 'pino';
import type { Logger } from '../src/shared/logger.js';

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: ['*.password', '*.secretKey', '*.secret', '*.connectionString', 'err.config'], censor: '***' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: false }),
  ) as unknown as Logger;
}
