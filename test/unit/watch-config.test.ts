/**
 * The scheduler's config watcher applies a changed file once it has stopped changing: a
 * writer that truncates first (`writeFile`, most editors) must not get the empty file in
 * between applied, which would stand for the defaults and their shipped pipelines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { watchConfig } from '../../scheduler/pipeline-scheduler.js';
import type { Config } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'corrente-watch-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('watchConfig', () => {
  it('applies the written file, never the empty one a truncating writer leaves for a moment', async () => {
    const file = join(dir, 'corrente.yaml');
    writeFileSync(file, 'first');
    const applied: string[] = [];
    const watcher = watchConfig({
      configFile: file,
      // The content stands for the parsed config.
      reload: () => readFileSync(file, 'utf8') as unknown as Config,
      apply: async (config) => void applied.push(config as unknown as string),
      pollMs: 20,
    });
    try {
      await sleep(100);
      // Truncate, and write 50 ms later: fs.watch and the polling both see the empty file.
      await writeFile(file, '');
      await sleep(50);
      await writeFile(file, 'second');
      for (let i = 0; i < 50 && applied.length === 0; i++) await sleep(50);
      await sleep(300);
      expect(applied).toEqual(['second']);
    } finally {
      await watcher.close();
    }
  });
});
