/**
 * Bug 1 of the fault matrix in isolation, deterministic: when the COPY stream fails (the
 * backend is terminated, the connection drops) while the CSV chunker has a chunk file
 * open, the failure must reject `chunkCsv` (a retryable job failure), not kill the worker
 * process. (The first chunker wrote through a WriteStream whose pending write, after
 * `finally` destroyed it, raised an unhandled ERR_STREAM_DESTROYED 'error' event.)
 *
 * Runs the built chunker (`dist/`, built by the project's globalSetup) in a child process,
 * since the bug kills the process it runs in.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const CHUNKER = fileURLToPath(new URL('../../dist/src/pipeline/csv-chunker.js', import.meta.url));

it('a COPY stream that fails while a chunk file is open does not crash the process', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'corrente-faults-chunker-'));
  try {
    const script = join(dir, 'repro.mjs');
    await writeFile(
      script,
      `import { chunkCsv } from ${JSON.stringify(pathToFileURL(CHUNKER).href)};
// 64 KiB batches of rows, as the COPY reader delivers them; the first one opens the chunk
// file, then the stream fails as with a terminated backend (SQLSTATE 57P01).
async function* copyStream() {
  const batch = { data: Buffer.from('1,2.000,2020-01-01 00:00:00+00,item\\n'.repeat(1800)), rows: 1800, maxRowBytes: 36, endsRow: true, wide: false };
  yield batch;
  await new Promise((r) => setTimeout(r, 50));
  yield batch;
  yield batch;
  throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
}
try {
  for await (const chunk of chunkCsv(copyStream(), { dir: ${JSON.stringify(dir)}, targetBytes: 64 << 20 })) void chunk;
  console.log('no error?');
} catch (err) {
  console.log('chunkCsv rejected: ' + err.message);
}
setTimeout(() => console.log('process survived'), 300);
`,
    );
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('chunkCsv rejected: terminating connection');
    expect(r.stderr).not.toMatch(/ERR_STREAM_DESTROYED|Unhandled 'error' event/);
    expect(r.stdout).toContain('process survived');
    expect(r.status).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
