import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { parseDuration } from '../../src/config/incremental.js';
import { CorrenteError } from '../../src/shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'corrente-inc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const load = (yaml: string) => {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, yaml);
  return loadConfig({ env: {}, file });
};
const message = (yaml: string): string => {
  try {
    load(yaml);
  } catch (err) {
    expect(err).toBeInstanceOf(CorrenteError);
    expect((err as CorrenteError).code).toBe('CONFIG_INVALID');
    return (err as CorrenteError).message;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('tables[].incremental', () => {
  it('reads the column mode with overlap, deletes and fullEvery', () => {
    const c = load('tables:\n  - name: core.f\n    incremental: { column: updated_at, overlap: 10m, deletes: keydiff, fullEvery: 7d }\n');
    expect(c.tables[0]).toMatchObject({ name: 'core.f', incremental: { column: 'updated_at', overlap: { ms: 600_000 }, deletes: 'keydiff', fullEvery: 7 * 86_400_000 } });
  });

  it('reads the xmin mode, and an integer overlap as a count', () => {
    expect(load('tables:\n  - name: core.f\n    incremental: { mode: xmin }\n').tables[0]).toMatchObject({ incremental: { mode: 'xmin' } });
    expect(load('tables:\n  - name: core.f\n    incremental: { column: id, overlap: 100 }\n').tables[0]).toMatchObject({ incremental: { column: 'id', overlap: { count: 100 } } });
  });

  it('leaves tables without it as full exports', () => {
    expect(load('tables:\n  - name: core.f\n').tables[0]).not.toHaveProperty('incremental');
  });

  it('names an unknown key', () => {
    expect(message('tables:\n  - name: core.f\n    incremental: { column: updated_at, overlp: 10m }\n')).toBe(
      'Unknown config key tables.0.incremental.overlp (in ' + join(dir, `c${n - 1}.yaml`) + ' or the environment)',
    );
    expect(message('tables:\n  - name: core.f\n    incremental: { mode: xmin, column: updated_at }\n')).toMatch(/^Unknown config key tables\.0\.incremental\.column /);
  });

  it('names a bad duration, a bad mode and a missing column', () => {
    expect(message('tables:\n  - name: core.f\n    incremental: { column: updated_at, overlap: 10 minutes }\n')).toMatch(/at tables\.0\.incremental\.overlap.*write e\.g\. 10m/);
    expect(message('tables:\n  - name: core.f\n    incremental: { mode: xmax }\n')).toMatch(/at tables\.0\.incremental\.mode/);
    expect(message('tables:\n  - name: core.f\n    incremental: { deletes: keydiff }\n')).toMatch(/at tables\.0\.incremental\.column/);
    expect(message('tables:\n  - name: core.f\n    incremental: { column: updated_at, deletes: all }\n')).toMatch(/at tables\.0\.incremental\.deletes/);
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('-1m')).toBeUndefined();
  });
});
