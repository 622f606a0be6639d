import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { sha256File } from '../../src/pipeline/file-hash.js';

it('sha256File equals the hash of the whole content, across read steps and for an empty file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'corrente-hash-'));
  try {
    const data = randomBytes((5 << 19) + 123); // 2.5 MB and a bit: three reads, the last partial
    await writeFile(join(dir, 'a'), data);
    await writeFile(join(dir, 'empty'), '');
    expect(await sha256File(join(dir, 'a'))).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await sha256File(join(dir, 'empty'))).toBe(createHash('sha256').digest('hex'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
