import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { expandSelection, tableSelection } from '../../src/config/table-selection.js';
import { resolveTables } from '../../src/config/tables.js';
import { closestNames, editDistance } from '../../src/shared/closest-names.js';
import { CorrenteError } from '../../src/shared/errors.js';
import { isTablePattern, parseTableSelector } from '../../src/shared/table-pattern.js';
import type { TableRef } from '../../src/shared/table-schema.js';

const ref = (text: string): TableRef => {
  const [schema, name] = text.split('.') as [string, string];
  return { schema, name };
};

function thrown(fn: () => unknown): CorrenteError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CorrenteError);
    return err as CorrenteError;
  }
  throw new Error('expected a CorrenteError');
}

describe('table patterns', () => {
  it('tells patterns from names; a quoted * is a character', () => {
    expect(isTablePattern('core.*')).toBe(true);
    expect(isTablePattern('core.fact_*')).toBe(true);
    expect(isTablePattern('*.fact_demand_daily')).toBe(true);
    expect(isTablePattern('core.fact_demand_daily')).toBe(false);
    expect(isTablePattern('core."a*b"')).toBe(false);
    expect(isTablePattern('"c*".t')).toBe(false);
  });

  it('core.* matches every table of the schema and no other', () => {
    const p = parseTableSelector('core.*');
    expect(p.exact).toBeUndefined();
    expect(p.schema).toBe('core');
    expect(['core.a', 'core.fact_demand_daily', 'core.x.y'].map((t) => p.matches(ref(t)))).toEqual([true, true, true]);
    expect(p.matches({ schema: 'core', name: '' })).toBe(true);
    expect(p.matches(ref('corex.a'))).toBe(false);
    expect(p.matches(ref('Core.a'))).toBe(false);
  });

  it('prefix, suffix, infix and schema wildcards; regex characters are literal', () => {
    expect(parseTableSelector('core.tmp_*').matches(ref('core.tmp_1'))).toBe(true);
    expect(parseTableSelector('core.tmp_*').matches(ref('core.tmp'))).toBe(false);
    expect(parseTableSelector('core.tmp_*').matches(ref('core.xtmp_1'))).toBe(false);
    expect(parseTableSelector('core.*_daily').matches(ref('core.fact_demand_daily'))).toBe(true);
    expect(parseTableSelector('core.fact_*_daily').matches(ref('core.fact_demand_daily'))).toBe(true);
    expect(parseTableSelector('core.fact_*_daily').matches(ref('core.fact_daily'))).toBe(false);
    expect(parseTableSelector('*.fact_*').matches(ref('analytics.fact_forecasts'))).toBe(true);
    expect(parseTableSelector('*.*').matches(ref('a.b'))).toBe(true);
    // `_`, `.` and `$` are not wildcards here (unlike LIKE or regular expressions).
    expect(parseTableSelector('core.a_*').matches(ref('core.ab1'))).toBe(false);
    expect(parseTableSelector('s.a$*').matches({ schema: 's', name: 'a$1' })).toBe(true);
    expect(parseTableSelector('"s.x".*').matches({ schema: 's.x', name: 't' })).toBe(true);
    expect(parseTableSelector('"s.x".*').matches({ schema: 'sax', name: 't' })).toBe(false);
  });

  it('an exact selector matches however the name is spelled, and only that table', () => {
    const p = parseTableSelector('"core"."a*b"');
    expect(p.exact).toEqual({ schema: 'core', name: 'a*b' });
    expect(p.matches({ schema: 'core', name: 'a*b' })).toBe(true);
    expect(p.matches({ schema: 'core', name: 'axb' })).toBe(false);
  });
});

describe('expandSelection', () => {
  const catalog = ['analytics.fact_forecasts', 'core.dim_item', 'core.fact_demand_daily', 'core.tmp_load', 'core.tmp_x', 'staging.raw'].map(ref);

  it("--tables 'core.*' selects every readable table of the schema, in catalog order", () => {
    const out = expandSelection(tableSelection({ tables: [], exclude: [] }, ['core.*']), catalog);
    expect(out.targets.map((t) => t.table)).toEqual(['core.dim_item', 'core.fact_demand_daily', 'core.tmp_load', 'core.tmp_x'].map(ref));
    expect(out.targets.every((t) => t.layer === 'bronze')).toBe(true);
  });

  it('exclude patterns from the config and the command line leave tables out, and are reported', () => {
    const sel = tableSelection({ tables: ['core.*'], exclude: ['core.tmp_*'] }, undefined, ['core.dim_item']);
    const out = expandSelection(sel, catalog);
    expect(out.targets.map((t) => t.table)).toEqual([ref('core.fact_demand_daily')]);
    expect(out.excluded).toEqual(['core.dim_item', 'core.tmp_load', 'core.tmp_x'].map(ref));
  });

  it('a table keeps its own options however it is selected; a pattern entry gives its layer to the rest', () => {
    const config: Pick<Config, 'tables' | 'exclude'> = {
      tables: [{ name: 'core.fact_demand_daily', layer: 'gold' as const, columns: { note: { as: 'text' as const } } }, { name: 'core.*', layer: 'silver' as const, columns: {} }],
      exclude: [],
    };
    const fromConfig = expandSelection(tableSelection(config), catalog).targets;
    expect(fromConfig).toEqual([
      { table: ref('core.fact_demand_daily'), layer: 'gold', columns: { note: { as: 'text' } } },
      { table: ref('core.dim_item'), layer: 'silver', columns: {} },
      { table: ref('core.tmp_load'), layer: 'silver', columns: {} },
      { table: ref('core.tmp_x'), layer: 'silver', columns: {} },
    ]);
    const fromCli = expandSelection(tableSelection(config, ['*.fact_*']), catalog).targets;
    expect(fromCli).toEqual([
      { table: ref('analytics.fact_forecasts'), layer: 'bronze', columns: {} },
      { table: ref('core.fact_demand_daily'), layer: 'gold', columns: { note: { as: 'text' } } },
    ]);
  });

  it('exact names are kept without the catalog (the preflight reports them), duplicates once', () => {
    const out = expandSelection(tableSelection({ tables: [], exclude: [] }, ['core.nope', 'core.*', 'core.dim_item']), catalog);
    expect(out.targets.map((t) => t.table)).toEqual(['core.nope', 'core.dim_item', 'core.fact_demand_daily', 'core.tmp_load', 'core.tmp_x'].map(ref));
  });

  it('a pattern matching nothing is TABLE_NOT_FOUND naming the pattern, with the closest schema', () => {
    const err = thrown(() => expandSelection(tableSelection({ tables: [], exclude: [] }, ['cor.*']), catalog));
    expect(err.code).toBe('TABLE_NOT_FOUND');
    expect(err.message).toContain('cor.*');
    expect(err.hint).toContain('did you mean "core"?');
    expect(thrown(() => expandSelection(tableSelection({ tables: ['core.zzz_*'], exclude: [] }), catalog)).message).toContain('core.zzz_*');
  });

  it('excluding everything is CONFIG_INVALID naming the excludes', () => {
    const err = thrown(() => expandSelection(tableSelection({ tables: ['core.tmp_*'], exclude: ['core.tmp_*'] }), catalog));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('core.tmp_*');
  });

  it('column overrides on a pattern are refused; one-table places refuse patterns', () => {
    const err = thrown(() => tableSelection({ tables: [{ name: 'core.*', layer: 'bronze', columns: { a: { as: 'text' } } }], exclude: [] }));
    expect(err.context.option).toBe('tables[0].columns');
    expect(thrown(() => resolveTables({ tables: [] }, ['core.*'])).message).toMatch(/pattern/);
    expect(resolveTables({ tables: [] }, ['core."a*"'])[0]!.table).toEqual({ schema: 'core', name: 'a*' });
  });

  it('one named table (verify, restore) takes its layer from a matching tables: pattern', () => {
    const tables: Config['tables'] = ['core.*', { name: 'staging.*', layer: 'silver', columns: {} }];
    expect(resolveTables({ tables }, ['staging.raw'])).toEqual([{ table: ref('staging.raw'), layer: 'silver', columns: {} }]);
    expect(resolveTables({ tables }, ['other.t'])).toEqual([{ table: ref('other.t'), layer: 'bronze', columns: {} }]);
  });
});

describe('did you mean', () => {
  it('edit distance counts a swap of neighbours as one edit', () => {
    expect(editDistance('dialy', 'daily')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('suggests the closest names, case mismatches first, nothing when far', () => {
    const names = ['core.fact_demand_daily', 'core.dim_item', 'analytics.fact_forecasts', 'core.Dim_Item'];
    expect(closestNames('core.fact_demand_dialy', names)).toEqual(['core.fact_demand_daily']);
    expect(closestNames('core.fact_demand_day', names)).toEqual(['core.fact_demand_daily']);
    expect(closestNames('core.DIM_ITEM', names)).toEqual(['core.Dim_Item', 'core.dim_item']);
    expect(closestNames('cor.dim_item', names)).toEqual(['core.dim_item', 'core.Dim_Item']);
    expect(closestNames('core.orders', names)).toEqual([]);
    expect(closestNames('a.b', ['a.c', 'x.y'])).toEqual(['a.c']);
  });
});
