/**
 * Child processes for the benchmark: every child is registered so that an error, a
 * timeout or Ctrl-C kills all of them (their whole process group) and nothing is left
 * running; every child has a timeout so the harness never hangs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RssSampler } from './rss.js';

export const DEFAULT_CHILD_TIMEOUT_MS = 10 * 60_000;
const KEEP_BYTES = 4 * 1024 * 1024;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall seconds from spawn to exit. */
  seconds: number;
  timedOut: boolean;
}

export interface StartOptions {
  /** Environment variables added to (or, when undefined, removed from) process.env. */
  env?: Record<string, string | undefined>;
  /** Kill the child (SIGTERM, then SIGKILL) after this long. @defaultValue 10 min */
  timeoutMs?: number;
  /** `capture` keeps stdout in memory; a number is a file descriptor to write it to. */
  stdout?: 'capture' | 'ignore' | number;
  cwd?: string;
}

export class ChildFailedError extends Error {
  constructor(
    message: string,
    readonly repro: string,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

export class ChildHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly rss: RssSampler;
  readonly exited: Promise<ChildExit>;
  readonly repro: string;
  private out = '';
  private err = '';
  private done = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: StartOptions = {},
  ) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    this.repro = reproCommand(options.env ?? {}, command, args);
    const started = process.hrtime.bigint();
    const stdout = options.stdout ?? 'capture';
    this.child = spawn(command, args, {
      env,
      cwd: options.cwd,
      // Own process group, so a kill reaches grandchildren (psql under a measurement child).
      detached: true,
      stdio: ['ignore', stdout === 'capture' ? 'pipe' : stdout, 'pipe'],
    });
    if (this.child.pid === undefined) {
      // spawn failed synchronously-ish (ENOENT): the 'error' event carries the reason.
      this.pid = -1;
    } else {
      this.pid = this.child.pid;
    }
    this.rss = new RssSampler(this.pid);
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (this.out.length < KEEP_BYTES) this.out += d;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.err = (this.err + d).slice(-64 * 1024);
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_CHILD_TIMEOUT_MS;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      process.stderr.write(`[bench] ${name}: timed out after ${Math.round(timeoutMs / 1000)} s, killing it\n`);
      void this.stop(5_000);
    }, timeoutMs);
    this.timer.unref();
    this.exited = new Promise<ChildExit>((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.done) return;
        this.done = true;
        clearTimeout(this.timer);
        this.rss.stop();
        live.delete(this);
        resolve({ code, signal, seconds: Number(process.hrtime.bigint() - started) / 1e9, timedOut: this.timedOut });
      };
      this.child.on('error', (e) => {
        this.err += `\nspawn error: ${e.message}`;
        finish(127, null);
      });
      this.child.on('close', finish);
    });
    live.add(this);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  get running(): boolean {
    return !this.done;
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.done || this.pid <= 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child has exited. */
  async stop(graceMs = 30_000): Promise<ChildExit> {
    if (!this.done) {
      this.signal('SIGTERM');
      const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
      t.unref();
      const exit = await this.exited;
      clearTimeout(t);
      return exit;
    }
    return this.exited;
  }

  /** Throws ChildFailedError (with the stderr tail and a command to reproduce) unless exit code 0. */
  assertOk(exit: ChildExit): void {
    if (exit.code === 0) return;
    const why = exit.timedOut ? 'timed out' : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = this.err.trim().split('\n').slice(-15).join('\n');
    throw new ChildFailedError(`${this.name} ${why}${tail ? `:\n${tail}` : ''}`, this.repro, tail);
  }
}

const live = new Set<ChildHandle>();

export function startChild(name: string, command: string, args: readonly string[], options?: StartOptions): ChildHandle {
  return new ChildHandle(name, command, args, options);
}

/** Starts a child, waits for it, and throws if it failed. */
export async function runChild(
  name: string,
  command: string,
  args: readonly string[],
  options?: StartOptions,
): Promise<{ handle: ChildHandle; exit: ChildExit }> {
  const handle = startChild(name, command, args, options);
  const exit = await handle.exited;
  handle.assertOk(exit);
  return { handle, exit };
}

/** Kills every child still running (used in `finally` and on signals). */
export async function killAllChildren(graceMs = 5_000): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(graceMs)));
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A copy-pasteable command line (the env vars the harness set, then the command). */
export function reproCommand(env: Record<string, string | undefined>, command: string, args: readonly string[]): string {
  const vars = Object.entries(env)
    .filter(([k, v]) => v !== undefined && !/SECRET/i.test(k))
    .map(([k, v]) => `${k}=${shellQuote(v!)}`);
  const cmd = command === process.execPath ? 'node' : command;
  return [...vars, cmd, ...args].map((x, i) => (i < vars.length ? x : shellQuote(x))).join(' ');
}
