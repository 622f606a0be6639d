/**
 * A closed-loop HTTP load: `connections` keep-alive clients each send the next request as
 * soon as the previous answer is read, for `seconds`. Every latency is kept, so p50, p95
 * and p99 are exact (load tools that report fixed percentiles lack p95).
 *
 * The client shares the machine's cores with the server it measures, and in a saturated
 * closed loop every CPU millisecond it spends per request shows up in the server's
 * latency. So it is as cheap as HTTP/1.1 allows: one socket per connection, each request
 * written as prebuilt bytes, each response read only as far as its status, its length
 * (Content-Length or chunked) and its end; nothing is parsed or kept.
 */
import { connect, type Socket } from 'node:net';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  /** Latency percentiles, ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentile `p` (0..100) of sorted values, nearest rank. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/** One keep-alive HTTP/1.1 connection sending GETs one at a time. */
class RawConnection {
  readonly #socket: Socket;
  #pending?: { resolve: () => void; reject: (err: Error) => void; what: string };
  #buffered: Buffer[] = [];
  #bufferedBytes = 0;
  /** Bytes of the response still to come once the head is read; -1: chunked; undefined: head not read yet. */
  #remaining?: number;
  #status = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error): void => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  static open(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one prebuilt request; resolves when its whole response has arrived with status 200, rejects otherwise. */
  send(request: Buffer, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject, what };
      this.#buffered = [];
      this.#bufferedBytes = 0;
      this.#remaining = undefined;
      this.#socket.write(request);
    });
  }

  #onData(chunk: Buffer): void {
    const p = this.#pending;
    if (!p) return;
    if (this.#remaining === undefined) {
      this.#buffered.push(chunk);
      this.#bufferedBytes += chunk.length;
      const head = this.#buffered.length === 1 ? chunk : Buffer.concat(this.#buffered, this.#bufferedBytes);
      const end = head.indexOf(HEADER_END);
      if (end < 0) return;
      const text = head.toString('latin1', 0, end);
      this.#status = Number(text.slice(9, 12));
      const length = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (length) {
        this.#remaining = Number(length[1]) - (head.length - end - 4);
      } else if (/\r\ntransfer-encoding: *chunked/i.test(text)) {
        this.#remaining = -1;
        this.#buffered = [head.subarray(end + 4)];
      } else {
        this.#pending = undefined;
        p.reject(new Error(`response without Content-Length or chunked encoding for ${p.what}`));
        this.#socket.destroy();
        return;
      }
    } else if (this.#remaining > 0) {
      this.#remaining -= chunk.length;
    } else {
      this.#buffered.push(chunk);
    }
    // Chunked: the response ends with the last-chunk marker (no trailers are sent here).
    const done = this.#remaining === -1 ? endsWith(this.#buffered, CHUNKED_END) : this.#remaining <= 0;
    if (done) {
      this.#pending = undefined;
      // A failed request's body is read too, so the connection stays usable.
      if (this.#status === 200) p.resolve();
      else p.reject(new Error(`HTTP ${this.#status} for ${p.what}`));
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

function endsWith(chunks: Buffer[], tail: Buffer): boolean {
  const last = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (chunks.length > 1) chunks.splice(0, chunks.length, last);
  return last.length >= tail.length && last.subarray(last.length - tail.length).equals(tail);
}

/**
 * `connections` loops calling `task(i, loop)` back to back for `seconds` (`i` counts per
 * loop, starting at the loop's number, to spread the work): every latency kept.
 */
export async function closedLoop(connections: number, seconds: number, task: (i: number, loop: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: Error | undefined;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let i = c; performance.now() < deadline; i++) {
        const start = performance.now();
        try {
          await task(i, c);
          latencies.push(performance.now() - start);
        } catch (err) {
          errors++;
          firstError ??= err as Error;
        }
      }
    }),
  );
  if (latencies.length === 0) throw firstError ?? new Error('no request completed');
  const sorted = latencies.sort((a, b) => a - b);
  const elapsed = (performance.now() - t0) / 1000;
  const round = (v: number): number => Math.round(v * 10) / 10;
  return {
    requests: sorted.length,
    errors,
    seconds: round(elapsed),
    requestsPerSecond: round(sorted.length / elapsed),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1]!),
  };
}

/** Runs the load against `urls` (each client cycles through them). */
export async function runHttpLoad(urls: readonly string[], connections: number, seconds: number): Promise<LoadResult> {
  const first = new URL(urls[0]!);
  const requests = urls.map((u) => {
    const url = new URL(u);
    return Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\n\r\n`, 'latin1');
  });
  const clients = await Promise.all(Array.from({ length: connections }, () => RawConnection.open(first.hostname, Number(first.port))));
  try {
    return await closedLoop(connections, seconds, (i, loop) => clients[loop]!.send(requests[i % requests.length]!, urls[i % urls.length]!));
  } finally {
    for (const c of clients) c.close();
  }
}
