import { describe, expect, it } from 'vitest';
import { CorrenteError } from '../../src/shared/errors.js';
import { describeLogicalType, formatTableRef, parseTableRef, quoteIdent, quoteLiteral, type TableRef } from '../../src/shared/table-schema.js';

function parseError(text: string): CorrenteError {
  try {
    parseTableRef(text);
  } catch (err) {
    expect(err).toBeInstanceOf(CorrenteError);
    return err as CorrenteError;
  }
  throw new Error(`parseTableRef(${JSON.stringify(text)}) did not throw`);
}

describe('parseTableRef', () => {
  it('parses a plain schema.table', () => {
    expect(parseTableRef('core.dim_item')).toEqual({ schema: 'core', name: 'dim_item' });
  });

  it('trims surrounding whitespace', () => {
    expect(parseTableRef('  core.dim_item \n')).toEqual({ schema: 'core', name: 'dim_item' });
  });

  it('preserves upper case (no case folding)', () => {
    expect(parseTableRef('Core.DimItem')).toEqual({ schema: 'Core', name: 'DimItem' });
    expect(parseTableRef('"Core"."DimItem"')).toEqual({ schema: 'Core', name: 'DimItem' });
  });

  it('parses quoted parts holding dots and spaces', () => {
    expect(parseTableRef('"My Schema"."a.b"')).toEqual({ schema: 'My Schema', name: 'a.b' });
    expect(parseTableRef('core."a.b.c"')).toEqual({ schema: 'core', name: 'a.b.c' });
    expect(parseTableRef('"x.y".plain')).toEqual({ schema: 'x.y', name: 'plain' });
  });

  it('parses doubled quotes inside quoted parts', () => {
    expect(parseTableRef('"a""b"."c.d"')).toEqual({ schema: 'a"b', name: 'c.d' });
    expect(parseTableRef('s.""""')).toEqual({ schema: 's', name: '"' });
    expect(parseTableRef('"""x"""."y"')).toEqual({ schema: '"x"', name: 'y' });
  });

  it('parses a quoted SQL-injection-looking name to the literal name', () => {
    expect(parseTableRef('public."x; DROP TABLE y"')).toEqual({ schema: 'public', name: 'x; DROP TABLE y' });
  });

  it.each([
    ['a'],
    ['a.b.c'],
    ['.b'],
    ['a.'],
    ['a..b'],
    [''],
    ['   '],
    ['"a.b"'],
    ['"a"."b"."c"'],
    ['"a"b.c'],
    ['"".x'],
    ['x.""'],
    ['x; DROP TABLE y'],
  ])('rejects %j with CONFIG_INVALID', (text) => {
    const err = parseError(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(JSON.stringify(text));
    expect(err.hint).toMatch(/schema\.table/);
  });

  it.each([['"abc.def'], ['core."unterminated'], ['"a""'], ['x."a""b']])('rejects unterminated quote %j', (text) => {
    const err = parseError(text);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/never closed/);
  });

  it('rejects text after a closing quote', () => {
    expect(parseError('"a"x.b').message).toMatch(/expected a dot/);
  });
});

describe('formatTableRef', () => {
  it('leaves simple lower-case names unquoted', () => {
    expect(formatTableRef({ schema: 'core', name: 'dim_item' })).toBe('core.dim_item');
    expect(formatTableRef({ schema: '_s', name: 'a1$' })).toBe('_s.a1$');
  });

  it('quotes names that need it', () => {
    expect(formatTableRef({ schema: 'Core', name: 'a.b' })).toBe('"Core"."a.b"');
    expect(formatTableRef({ schema: 'a"b', name: '1x' })).toBe('"a""b"."1x"');
    expect(formatTableRef({ schema: 'my schema', name: 'x' })).toBe('"my schema".x');
  });

  const tricky: TableRef[] = [
    { schema: 'core', name: 'dim_item' },
    { schema: 'Core', name: 'DimItem' },
    { schema: 'a"b', name: 'c.d' },
    { schema: 'my schema', name: 'a table' },
    { schema: '.', name: '..' },
    { schema: '"', name: '""' },
    { schema: 'public', name: 'x; DROP TABLE y' },
    { schema: ' lead', name: 'trail ' },
    { schema: 'ünï', name: 'código 😀' },
    { schema: 's', name: "it's" },
    { schema: 's', name: 'a,b' },
    { schema: 's', name: '"."' },
    { schema: 'x', name: '\\' },
  ];
  it.each(tricky)('round-trips $schema / $name through parseTableRef', (ref) => {
    expect(parseTableRef(formatTableRef(ref))).toEqual(ref);
  });

  it('gives distinct text for distinct refs', () => {
    const texts = tricky.map(formatTableRef);
    expect(new Set(texts).size).toBe(tricky.length);
  });
});

describe('quoteIdent / quoteLiteral', () => {
  it('quoteIdent wraps in double quotes and doubles inner ones', () => {
    expect(quoteIdent('plain')).toBe('"plain"');
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
    expect(quoteIdent('""')).toBe('""""""');
    expect(quoteIdent("it's")).toBe('"it\'s"');
    expect(quoteIdent('x"; DROP TABLE y; --')).toBe('"x""; DROP TABLE y; --"');
    expect(quoteIdent('')).toBe('""');
  });

  it('quoteLiteral wraps in single quotes and doubles inner ones', () => {
    expect(quoteLiteral('plain')).toBe("'plain'");
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(quoteLiteral("''")).toBe("''''''");
    expect(quoteLiteral('we"ird')).toBe(`'we"ird'`);
    expect(quoteLiteral("x'); DROP TABLE y; --")).toBe("'x''); DROP TABLE y; --'");
    expect(quoteLiteral('back\\slash')).toBe("'back\\slash'");
  });
});

describe('describeLogicalType', () => {
  it('renders decimals, lists and scalars', () => {
    expect(describeLogicalType({ kind: 'decimal', precision: 14, scale: 3 })).toBe('DECIMAL(14,3)');
    expect(describeLogicalType({ kind: 'list', element: { kind: 'int32' } })).toBe('LIST<INT32>');
    expect(describeLogicalType({ kind: 'timestamptz' })).toBe('TIMESTAMPTZ');
  });
});
