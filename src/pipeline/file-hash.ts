import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Bytes read per step. */
const READ_BYTES = 1 << 20;

/**
 * SHA-256 of a file, hex. Reads into one reused buffer: a read stream allocates a fresh
 * 1 MB buffer per chunk, and hashing a 128 MB file left them for the garbage collector
 * (about 35 MB of RSS in a transform test).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_BYTES, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}
