/**
 * Posts a JSON document to a webhook (pipeline alerts), with a timeout per attempt and
 * retries with exponential backoff on network errors, timeouts, 429 and 5xx. The URL is
 * never logged whole: webhook paths and queries usually are the credential.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../shared/errors.js';
import { noopLogger, type Logger } from '../shared/logger.js';
import { redactWebhookUrl } from '../shared/redact.js';

export interface PostWebhookOptions {
  /** Per-attempt timeout, ms. @defaultValue 10000 */
  timeoutMs?: number;
  /** Further attempts after a failed one. @defaultValue 3 */
  retries?: number;
  /** Delay before the first retry, ms; doubles each attempt. @defaultValue 1000 */
  backoffMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface WebhookResult {
  ok: boolean;
  attempts: number;
  /** The last HTTP status, if a response came. */
  status?: number;
  /** Why it failed, one line (the URL redacted). */
  error?: string;
}

/** POSTs `body` as JSON. Never throws: an alert that cannot be delivered is logged and reported. */
export async function postWebhook(url: string, body: unknown, options: PostWebhookOptions = {}): Promise<WebhookResult> {
  const { timeoutMs = 10_000, retries = 3, backoffMs = 1_000 } = options;
  const logger = options.logger ?? noopLogger;
  const shown = redactWebhookUrl(url);
  let last: WebhookResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.any(signals) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { ok: true, attempts: attempt, status: res.status };
      last = { ok: false, attempts: attempt, status: res.status, error: `${shown} answered HTTP ${res.status}` };
      if (res.status !== 429 && res.status < 500) break;
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      // fetch's messages can embed the URL: say only what kind of failure it was.
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      last = { ok: false, attempts: attempt, error: timedOut ? `${shown} did not answer within ${timeoutMs} ms` : `${shown} unreachable${cause ? ` (${cause})` : ''}` };
      if (options.signal?.aborted) break;
    }
    logger.warn({ webhook: shown, attempt, err: { message: last.error } }, 'alert webhook failed');
    if (attempt <= retries) await sleep(backoffMs * 2 ** (attempt - 1), undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
  }
  logger.error({ webhook: shown, attempts: last.attempts, err: { message: last.error ?? describeError(new Error('unknown')) } }, 'alert not delivered');
  return last;
}
