/**
 * Runs a pipeline's `command` task: a shell command with its own process group, so a
 * timeout or a cancel stops everything it started (SIGTERM, then SIGKILL after a grace).
 * Its output (stdout and stderr interleaved as they arrive) is captured in bounded memory:
 * the first quarter of `maxLogBytes` and the last three quarters, with the bytes dropped
 * in between counted, so a command printing gigabytes cannot exhaust the worker.
 */
import { spawn } from 'node:child_process';
import { CorrenteError } from '../shared/errors.js';

export interface RunCommandOptions {
  command: string;
  /** Working directory. @defaultValue the worker's */
  cwd?: string;
  /** The complete environment of the command. */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  /** Output bytes kept. @defaultValue 262144 */
  maxLogBytes?: number;
  /** Time between SIGTERM and SIGKILL when aborted, ms. @defaultValue 5000 */
  killGraceMs?: number;
}

export interface CommandResult {
  exitCode: number;
  /** The kept output (head, a marker of what was dropped, tail). */
  log: string;
  /** Output bytes the command wrote in all. */
  outputBytes: number;
  seconds: number;
}

/** Keeps the first `head` bytes and the last `tail` bytes of a stream. */
class BoundedLog {
  readonly #headMax: number;
  readonly #tailMax: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  total = 0;

  constructor(maxBytes: number) {
    this.#headMax = Math.floor(maxBytes / 4);
    this.#tailMax = maxBytes - this.#headMax;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.#headBytes < this.#headMax) {
      const take = chunk.subarray(0, this.#headMax - this.#headBytes);
      this.#head.push(take);
      this.#headBytes += take.length;
      chunk = chunk.subarray(take.length);
      if (chunk.length === 0) return;
    }
    this.#tail.push(chunk);
    this.#tailBytes += chunk.length;
    while (this.#tailBytes - this.#tail[0]!.length >= this.#tailMax) this.#tailBytes -= this.#tail.shift()!.length;
    if (this.#tailBytes > this.#tailMax) {
      const extra = this.#tailBytes - this.#tailMax;
      this.#tail[0] = this.#tail[0]!.subarray(extra);
      this.#tailBytes -= extra;
    }
  }

  text(): string {
    const dropped = this.total - this.#headBytes - this.#tailBytes;
    const head = Buffer.concat(this.#head).toString('utf8');
    const tail = Buffer.concat(this.#tail).toString('utf8');
    return dropped > 0 ? `${head}\n[... ${dropped} bytes of output omitted ...]\n${tail}` : head + tail;
  }
}

/**
 * Runs `sh -c command`.
 * @throws CorrenteError `TASK_FAILED` on a non-zero exit or a kill by signal (the message
 *   holds the exit code and the output's last line), `ABORTED` when `signal` fired (its
 *   reason is rethrown when it is an Error).
 */
export async function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const t0 = performance.now();
  options.signal?.throwIfAborted();
  const log = new BoundedLog(options.maxLogBytes ?? 256 * 1024);
  const child = spawn('sh', ['-c', options.command], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => log.push(c));
  child.stderr.on('data', (c: Buffer) => log.push(c));
  let killTimer: NodeJS.Timeout | undefined;
  const kill = (): void => {
    const group = (sig: NodeJS.Signals): void => {
      try {
        // The negative pid signals the whole group: the shell and whatever it started.
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    group('SIGTERM');
    killTimer = setTimeout(() => group('SIGKILL'), options.killGraceMs ?? 5_000);
    killTimer.unref();
  };
  options.signal?.addEventListener('abort', kill, { once: true });
  try {
    const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve({ code: c, sig: s }));
    });
    const seconds = (performance.now() - t0) / 1000;
    if (options.signal?.aborted) {
      const reason: unknown = options.signal.reason;
      const err = reason instanceof Error ? reason : new CorrenteError('ABORTED', `Command aborted after ${seconds.toFixed(1)} s`);
      throw Object.assign(err, { log: log.text(), outputBytes: log.total });
    }
    const text = log.text();
    if (code !== 0) {
      const last = text.trimEnd().split('\n').at(-1)?.slice(0, 300) ?? '';
      const how = sig ? `was killed by ${sig}` : `exited with code ${code}`;
      throw Object.assign(
        new CorrenteError('TASK_FAILED', `Command ${how}${last ? `: ${last}` : ''}`, { hint: 'See the task log with `corrente runs <run>`', retryable: true }),
        { log: text, outputBytes: log.total },
      );
    }
    return { exitCode: 0, log: text, outputBytes: log.total, seconds };
  } finally {
    options.signal?.removeEventListener('abort', kill);
    if (killTimer) clearTimeout(killTimer);
  }
}

/** The captured output attached to a command's failure, if any. */
export function commandLogOf(err: unknown): { log: string; outputBytes: number } | undefined {
  const e = err as { log?: unknown; outputBytes?: unknown } | undefined;
  return e && typeof e.log === 'string' ? { log: e.log, outputBytes: Number(e.outputBytes ?? 0) } : undefined;
}
