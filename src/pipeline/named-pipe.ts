/**
 * A named pipe (FIFO) that Node writes and DuckDB reads as a CSV file: the COPY stream
 * goes straight into DuckDB's reader with no CSV on disk.
 *
 * The writing end is opened non-blocking, and only once the reader has the pipe open
 * (before that the open fails with ENXIO and is retried): bytes written to a pipe nobody
 * has open yet are discarded when the last descriptor closes, and a blocking open would
 * hold a thread of libuv's pool, which DuckDB's own queries also use. The descriptor is
 * wrapped in a `net.Socket`, so writes go through the event loop with backpressure.
 */
import { execFile } from 'node:child_process';
import { constants, open } from 'node:fs';
import { Socket } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { CorrenteError } from '../shared/errors.js';

const run = promisify(execFile);
const openFd = promisify(open);

/** How often to retry opening while the reader has not opened the pipe yet. */
const CONNECT_RETRY_MS = 2;

/** The writing end of a named pipe. */
export interface PipeWriter {
  /**
   * Resolves once every byte of `data` is in the pipe (the caller may then reuse the
   * buffer); waits for the reader to open it and while it is behind.
   */
  write(data: Buffer): Promise<void>;
  /** Flushes and closes: the reader sees end of file. */
  end(): Promise<void>;
  /** Closes at once (or stops waiting for the reader); pending and later writes reject with `err`. Idempotent. */
  destroy(err?: Error): void;
}

/** Creates a FIFO at `path` (owner-only); its writing end connects when a reader opens it. */
export async function createPipeWriter(path: string): Promise<PipeWriter> {
  // Node has no mkfifo; coreutils' is on every Linux this runs on.
  await run('mkfifo', ['-m', '600', path]).catch((err: unknown) => {
    const detail = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    throw new CorrenteError('CONFIG_INVALID', `Cannot create a named pipe in ${dirname(path)}: ${detail}`, {
      option: 'export.workDir',
      cause: err,
      hint: 'Set export.workDir in corrente.yaml to a writable directory on a local disk: exports stream through a named pipe there',
    });
  });
  let failure: Error | undefined;
  let socket: Socket | undefined;
  let stopWaiting: ((err: Error) => void) | undefined;
  const connected = (async (): Promise<Socket> => {
    for (;;) {
      if (failure) throw failure;
      try {
        // A raw descriptor, not a FileHandle: the socket owns and closes it.
        const fd = await openFd(path, constants.O_WRONLY | constants.O_NONBLOCK);
        const s = new Socket({ fd, readable: false, writable: true });
        s.on('error', (err) => {
          failure ??= err;
        });
        if (failure) s.destroy();
        return (socket = s);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, CONNECT_RETRY_MS);
        stopWaiting = (err) => {
          clearTimeout(timer);
          reject(err);
        };
      });
    }
  })();
  connected.catch(() => {});
  // One 'close' listener for the socket's life: a listener per waiting write would pile up
  // (one per batch the reader was behind on) until the export ends.
  const closed = connected.then((s) => new Promise<never>((_, reject) => s.once('close', () => reject(failure ?? new Error(`pipe ${path} closed`)))));
  closed.catch(() => {});
  return {
    write: async (data) => {
      const s = await connected;
      if (failure) throw failure;
      // The write's own callback, not write()'s return value or 'drain': a write smaller
      // than the socket's high-water mark returns true while libuv may still be holding
      // (a reference to) its bytes, and the export recycles the buffer once this resolves.
      await Promise.race([new Promise<void>((resolve, reject) => s.write(data, (err) => (err ? reject(err) : resolve()))), closed]);
    },
    end: async () => {
      const s = await connected;
      if (failure) throw failure;
      await new Promise<void>((resolve) => s.end(resolve));
      if (failure) throw failure;
    },
    destroy: (err) => {
      failure ??= err ?? new Error(`pipe ${path} closed`);
      stopWaiting?.(failure);
      socket?.destroy();
    },
  };
}
