/**
 * `corrente publish <files...> --table gold.fact_forecasts`: publishes files made outside
 * corrente (an ML job's output) as a run of a silver or gold table, checked against the
 * table's contract and tests, atomically.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { newRunId } from '../../src/lake/index.js';
import { createTransformDeps, publishFiles, PUBLISH_FORMATS, type PublishFormat } from '../../src/pipeline/index.js';
import { createObjectStore } from '../../src/storage/index.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { parseTableRef } from '../../src/shared/table-schema.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import type { CliContext } from '../cli-context.js';
import { formatCount } from '../render.js';

export interface PublishFlags {
  table: string;
  format?: string;
  key?: string;
  json?: boolean;
  runId?: string;
}

/** Expands `*` and `?` in the last path segment (shells usually expand them already). */
export function expandPaths(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    const name = basename(p);
    if (!/[*?]/.test(name)) {
      out.push(p);
      continue;
    }
    const dir = dirname(p);
    const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    const hits = existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort() : [];
    if (hits.length === 0) throw new CorrenteError('CONFIG_INVALID', `No file matches ${p}`, { hint: 'Check the path or glob' });
    out.push(...hits.map((f) => join(dir, f)));
  }
  return out;
}

export async function publishCommand(ctx: CliContext, paths: string[], flags: PublishFlags): Promise<number> {
  const files = expandPaths(paths);
  const format = (flags.format ?? (files.every((f) => /\.csv(\.gz)?$/i.test(f)) ? 'csv' : 'parquet')) as PublishFormat;
  if (!PUBLISH_FORMATS.includes(format)) throw new CorrenteError('CONFIG_INVALID', `Unknown --format ${format}`, { option: '--format', hint: 'Use parquet or csv' });
  const table = parseTableRef(flags.table);
  const dir = existsSync(ctx.config.transform.dir) ? ctx.config.transform.dir : shippedTransformsDir();
  const store = createObjectStore(ctx.config.storage);
  try {
    const deps = createTransformDeps(store, ctx.config, ctx.logger);
    const runId = flags.runId ?? newRunId({ kind: 'transform' });
    const key = flags.key?.split(',').map((k) => k.trim()).filter((k) => k !== '');
    const result = await publishFiles(deps, { files, table, format, runId, ...(key?.length ? { key } : {}), ...(dir ? { transformsDir: dir } : {}) });
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(`${table.schema}.${table.name}: ${result.status}, run ${result.runId}, ${formatCount(result.rows ?? 0)} rows from ${files.length} file(s), contract: ${result.contract}${result.pointerMoved === false ? ' (not made current: a newer run is current)' : ''}\n`);
      for (const t of result.tests.filter((x) => x.failingRows > 0)) {
        process.stdout.write(`  ${t.severity === 'error' ? 'FAILED' : 'warn  '} ${t.name}: ${t.failingRows} row(s), e.g. ${t.sample.slice(0, 3).join(' ')}${t.audit ? `\n    all failing rows: ${t.audit}` : ''}\n`);
      }
    }
    if (result.status !== 'published') throw new CorrenteError(result.errorCode === 'DATA_TEST_FAILED' ? 'DATA_TEST_FAILED' : 'MODEL_FAILED', result.error ?? 'not published');
    return 0;
  } finally {
    await store.close();
  }
}
