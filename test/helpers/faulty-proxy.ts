/**
 * A small HTTP reverse proxy for fault-injection tests: it listens on 127.0.0.1 (random
 * port) in front of a loopback HTTP server (the in-process S3 server) and can be switched
 * at runtime between
 *
 * - `pass`: forward everything, bodies streamed both ways;
 * - `fail-every`: answer every k-th request with an S3-style 503 (deterministic);
 * - `delay`: forward, but hold each response for `ms` before relaying it (to push a client
 *   past its timeouts, or just to make work slow);
 * - `outage`: for a duration, either reset every connection (open ones included) or
 *   answer 503 to everything; then back to the mode that was active before.
 *
 * Counters say what happened. Bounded: loopback only on both sides, a cap on connections,
 * delays and outages capped, upstream sockets time out, bodies are streamed (never
 * buffered), and the request log is a ring buffer.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type OutageStyle = 'reset' | '503';

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'fail-every'; every: number; status: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'outage'; style: OutageStyle; until: number };

export interface ProxyStats {
  /** TCP connections accepted. */
  connections: number;
  /** Requests received (headers parsed). */
  requests: number;
  /** Requests sent on to the upstream server. */
  forwarded: number;
  /** Responses relayed completely to the client. */
  relayed: number;
  /** Error responses the proxy made up (fail-every and 503-style outages). */
  injectedErrors: number;
  /** Responses held back in delay mode. */
  delayed: number;
  /** Connections reset by an outage (open ones when it started, new ones during it). */
  resets: number;
  /** Upstream failures (connection refused, reset, timeout). */
  upstreamErrors: number;
  /** All faults: injected errors + resets. */
  faults: number;
}

export interface RequestRecord {
  at: number;
  method: string;
  url: string;
  /** What the proxy did: `forwarded` (with the upstream status), `injected-503`, `reset`. */
  outcome: string;
}

export interface FaultyProxyOptions {
  /** Upstream base URL; must be http:// on a loopback address. */
  target: string;
  /** Most simultaneous client connections. @defaultValue 128 */
  maxConnections?: number;
  /** Idle timeout of an upstream request, ms. @defaultValue 60 000 */
  upstreamTimeoutMs?: number;
  /** Entries kept in the request log. @defaultValue 1000 */
  logSize?: number;
}

export interface FaultyProxy {
  /** `http://127.0.0.1:<port>`: use it as the S3 endpoint. */
  readonly url: string;
  readonly mode: ProxyMode;
  pass(): void;
  /** Every `every`-th request (counted from now) is answered with `status` (503). */
  failEvery(every: number, status?: number): void;
  /** Each response is held `ms` (at most 120 s) before it is relayed. */
  delay(ms: number): void;
  /**
   * An outage of `durationMs` (at most 120 s): `reset` destroys every open connection
   * and every new one; `503` answers every request with 503. Resolves when it is over
   * (the previous mode is then restored).
   */
  outage(durationMs: number, style?: OutageStyle): Promise<void>;
  stats(): ProxyStats;
  /** The last requests (oldest first). */
  recent(): RequestRecord[];
  /**
   * Emits `incoming` with a {@link RequestRecord} (outcome `received`) when a request
   * arrives, and `request` when the proxy is done with it.
   */
  readonly events: EventEmitter;
  /** Resolves with the first request arriving from now on that matches `predicate`. */
  waitForRequest(predicate: (r: RequestRecord) => boolean, timeoutMs: number): Promise<RequestRecord>;
  close(): Promise<void>;
}

const MAX_DELAY_MS = 120_000;
const MAX_OUTAGE_MS = 120_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** Headers that belong to one hop; `expect` is not signed by SigV4 and 100-continue is handled per hop. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect', 'transfer-encoding']);

function s3Error(code: string, message: string, id: number): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>faulty-proxy-${id}</RequestId></Error>`;
}

function filterHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!);
  }
  return out;
}

export async function startFaultyProxy(options: FaultyProxyOptions): Promise<FaultyProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:' || !LOOPBACK.has(target.hostname)) {
    throw new Error(`faulty-proxy only fronts http:// loopback servers, not ${options.target}`);
  }
  const upstreamHost = target.hostname.replace(/^\[|\]$/g, '');
  const upstreamPort = Number(target.port || 80);
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 60_000;
  const logSize = options.logSize ?? 1000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const events = new EventEmitter();
  events.setMaxListeners(100);

  const counters: Omit<ProxyStats, 'faults'> = { connections: 0, requests: 0, forwarded: 0, relayed: 0, injectedErrors: 0, delayed: 0, resets: 0, upstreamErrors: 0 };
  let mode: ProxyMode = { kind: 'pass' };
  /** Requests seen since the current fail-every mode began. */
  let failSeq = 0;
  let requestId = 0;
  const log: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let outageEnd: { timer: NodeJS.Timeout; resolve: () => void; previous: ProxyMode } | undefined;
  let closed = false;

  const record = (method: string, url: string, outcome: string): void => {
    const r: RequestRecord = { at: Date.now(), method, url, outcome };
    log.push(r);
    if (log.length > logSize) log.splice(0, log.length - logSize);
    events.emit('request', r);
  };
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const inOutage = (): (ProxyMode & { kind: 'outage' }) | undefined => (mode.kind === 'outage' && Date.now() < mode.until ? mode : undefined);
  const reset = (socket: Socket): void => {
    counters.resets++;
    // RST rather than FIN: clients see ECONNRESET, as with a crashed server.
    if (!socket.destroyed) socket.resetAndDestroy();
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    counters.requests++;
    const id = ++requestId;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    events.emit('incoming', { at: Date.now(), method, url, outcome: 'received' } satisfies RequestRecord);
    const outage = inOutage();
    if (outage?.style === 'reset') {
      record(method, url, 'reset');
      reset(req.socket);
      return;
    }
    let inject = false;
    if (outage?.style === '503') inject = true;
    else if (mode.kind === 'fail-every') {
      failSeq++;
      inject = failSeq % mode.every === 0;
    }
    if (inject) {
      const status = mode.kind === 'fail-every' ? mode.status : 503;
      counters.injectedErrors++;
      record(method, url, `injected-${status}`);
      // Read the body to its end first, so the client sees a clean error response, not a
      // connection torn down under an upload.
      req.resume();
      req.on('end', () => {
        const body = method === 'HEAD' ? '' : s3Error(status === 503 ? 'ServiceUnavailable' : 'InternalError', 'Injected fault (faulty-proxy)', id);
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': `faulty-proxy-${id}` });
        res.end(body);
      });
      return;
    }
    const delayMs = mode.kind === 'delay' ? mode.ms : 0;
    counters.forwarded++;
    const upstream = http.request({
      host: upstreamHost,
      port: upstreamPort,
      method,
      path: url,
      // Host stays the one the client signed (SigV4 covers it).
      headers: filterHeaders(req.rawHeaders),
      agent,
      timeout: upstreamTimeoutMs,
    });
    let done = false;
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      counters.upstreamErrors++;
      record(method, url, `upstream-error ${why}`);
      upstream.destroy();
      if (!res.headersSent && !res.destroyed) {
        const body = s3Error('BadGateway', `Upstream failed: ${why}`, id);
        res.writeHead(502, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy();
      }
    };
    upstream.on('timeout', () => fail('timeout'));
    upstream.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
    upstream.on('response', (upRes) => {
      // From here the client's own timeouts apply (a delayed response must not trip ours).
      upstream.setTimeout(0);
      const relay = (): void => {
        if (res.destroyed) {
          upRes.destroy();
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, filterHeaders(upRes.rawHeaders));
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
        res.on('finish', () => {
          done = true;
          counters.relayed++;
          record(method, url, `forwarded ${upRes.statusCode ?? '?'}`);
        });
      };
      if (delayMs > 0) {
        counters.delayed++;
        later(delayMs, relay);
      } else relay();
    });
    // The client went away (or an outage reset it): stop the upstream side too.
    res.on('close', () => {
      if (!res.writableFinished) {
        done = true;
        upstream.destroy();
      }
    });
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.maxConnections = options.maxConnections ?? 128;
  server.on('connection', (socket: Socket) => {
    counters.connections++;
    socket.on('error', () => {});
    if (inOutage()?.style === 'reset') {
      reset(socket);
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (!socket.destroyed) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const endOutage = (): void => {
    if (!outageEnd) return;
    const { timer, resolve, previous } = outageEnd;
    outageEnd = undefined;
    clearTimeout(timer);
    if (mode.kind === 'outage') mode = previous;
    resolve();
  };
  const setMode = (next: ProxyMode): void => {
    endOutage();
    mode = next;
    failSeq = 0;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return mode;
    },
    events,
    pass: () => setMode({ kind: 'pass' }),
    failEvery: (every, status = 503) => {
      if (!Number.isInteger(every) || every < 1) throw new Error(`failEvery: every must be a positive integer, got ${every}`);
      setMode({ kind: 'fail-every', every, status });
    },
    delay: (ms) => setMode({ kind: 'delay', ms: Math.max(0, Math.min(ms, MAX_DELAY_MS)) }),
    outage: (durationMs, style = 'reset') => {
      const previous = mode.kind === 'outage' ? { kind: 'pass' as const } : mode;
      endOutage();
      const ms = Math.max(0, Math.min(durationMs, MAX_OUTAGE_MS));
      mode = { kind: 'outage', style, until: Date.now() + ms };
      if (style === 'reset') {
        for (const s of sockets) reset(s);
        sockets.clear();
      }
      return new Promise<void>((resolve) => {
        outageEnd = { timer: setTimeout(endOutage, ms), resolve, previous };
      });
    },
    stats: () => ({ ...counters, faults: counters.injectedErrors + counters.resets }),
    recent: () => [...log],
    waitForRequest: (predicate, timeoutMs) =>
      new Promise<RequestRecord>((resolve, reject) => {
        const onRequest = (r: RequestRecord): void => {
          if (!predicate(r)) return;
          cleanup();
          resolve(r);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`faulty-proxy: no matching request within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          events.off('incoming', onRequest);
        };
        events.on('incoming', onRequest);
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      endOutage();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
