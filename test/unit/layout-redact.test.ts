import { describe, expect, it } from 'vitest';
import { currentKey, encodeKeySegment, manifestKey, partKey, runIdOfKey, runPrefix, stagedKey, tablePrefix } from '../../src/lake/index.js';
import { redactSecrets, redactUrls } from '../../src/shared/redact.js';

describe('encodeKeySegment', () => {
  it.each([
    ['plain', 'plain'],
    ['a/b', 'a%2Fb'],
    ['/', '%2F'],
    ['%', '%25'],
    ['100%/x', '100%25%2Fx'],
    ['%2F', '%252F'],
    ['a\\b', 'a%5Cb'],
    ['.', '%2E'],
    ['..', '%2E%2E'],
    ['...', '...'],
    ['.hidden', '.hidden'],
    ['a.b', 'a.b'],
    ['with space', 'with space'],
    [' lead', ' lead'],
    ['ünïcödé 😀', 'ünïcödé 😀'],
    ['we"ird', 'we"ird'],
    ["it's", "it's"],
    ['run-x', 'run-x'],
  ])('%j -> %j', (name, encoded) => {
    expect(encodeKeySegment(name)).toBe(encoded);
  });

  it('never yields a segment containing / or equal to . or ..', () => {
    for (const name of ['/', '//', '.', '..', '/..', '../', 'a/../b']) {
      const s = encodeKeySegment(name);
      expect(s).not.toContain('/');
      expect(s).not.toBe('.');
      expect(s).not.toBe('..');
    }
  });

  it('maps distinct names to distinct segments', () => {
    const names = [
      'a/b', 'a%2Fb', 'a%252Fb', 'a%2fb', 'a\\b', 'a%5Cb', 'a%5cb',
      '.', '..', '%2E', '%2E%2E', '.%2E', '%2E.', '...', '%', '%25', '%%', '%2525',
      '/', '%2F', '//', '%2F%2F', '%2F/', '/%2F',
      '', ' ', '  ', 'x', 'X', 'x ', ' x',
      'é', 'e\u0301', 'ü', '😀', 'a b', 'a+b', 'a%20b',
    ];
    expect(new Set(names).size).toBe(names.length);
    const encoded = names.map(encodeKeySegment);
    expect(new Set(encoded).size).toBe(names.length);
  });

  it('keeps distinct tables apart in key prefixes', () => {
    const refs = [
      { schema: 'a/b', name: 'c' },
      { schema: 'a', name: 'b/c' },
      { schema: 'a%2Fb', name: 'c' },
      { schema: 'a', name: 'b%2Fc' },
      { schema: '..', name: 'x' },
      { schema: '.', name: '.' },
    ];
    const prefixes = refs.map(tablePrefix);
    expect(new Set(prefixes).size).toBe(refs.length);
    expect(prefixes[0]).toBe('a%2Fb/c/');
    expect(prefixes[1]).toBe('a/b%2Fc/');
    expect(prefixes[4]).toBe('%2E%2E/x/');
    for (const p of prefixes) expect(p.split('/')).toHaveLength(3);
  });
});

describe('key layout', () => {
  const ref = { schema: 'Core', name: 'dim item/2024' };
  it('builds the documented keys', () => {
    expect(tablePrefix(ref)).toBe('Core/dim item%2F2024/');
    expect(runPrefix(ref, 'r1')).toBe('Core/dim item%2F2024/run-r1/');
    expect(partKey(ref, 'r1', 7)).toBe('Core/dim item%2F2024/run-r1/part-00007.parquet');
    expect(stagedKey(ref, 'r1')).toBe('Core/dim item%2F2024/run-r1/_staged.json');
    expect(manifestKey(ref, 'r1')).toBe('Core/dim item%2F2024/run-r1/_manifest.json');
    expect(currentKey(ref)).toBe('Core/dim item%2F2024/_current.json');
  });

  it('runIdOfKey reads the run id', () => {
    expect(runIdOfKey(partKey(ref, '20240101T000000Z-abc', 0))).toBe('20240101T000000Z-abc');
    expect(runIdOfKey(currentKey(ref))).toBeUndefined();
  });
});

describe('redactUrls', () => {
  it('removes a URL password', () => {
    const out = redactUrls('connect postgres://u:s3cret@h/db failed');
    expect(out).not.toContain('s3cret');
    expect(out).toBe('connect postgres://u:***@h/db failed');
  });

  it('handles several URLs, empty users, ports and other schemes', () => {
    const text = 'pg=postgresql://app:pa55w0rd@db.internal:5432/x redis=redis://:r3dispw@cache:6379/0 s3=https://AKIA:xyz%2Fsecret@minio:9000';
    const out = redactUrls(text);
    for (const secret of ['pa55w0rd', 'r3dispw', 'xyz%2Fsecret']) expect(out).not.toContain(secret);
    expect(out).toBe('pg=postgresql://app:***@db.internal:5432/x redis=redis://:***@cache:6379/0 s3=https://AKIA:***@minio:9000');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrls('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    expect(redactUrls('http://127.0.0.1:9000/bucket')).toBe('http://127.0.0.1:9000/bucket');
  });

  it('is case-insensitive on the scheme', () => {
    expect(redactUrls('POSTGRES://u:TopSecret@h/db')).not.toContain('TopSecret');
  });

  it('removes the whole password when it contains a raw @ (pg accepts postgres://u:p@ss@h/db as password "p@ss")', () => {
    // node-postgres (pg-connection-string / WHATWG URL) splits userinfo at the LAST '@',
    // so this URL connects with the password `s3cret@Part2`.
    const out = redactUrls('postgres://u:s3cret@Part2@h/db');
    expect(out).not.toContain('s3cret');
    expect(out).not.toContain('Part2');
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of each secret and redacts URLs too', () => {
    const out = redactSecrets('key=AKIAEXAMPLE secret=wJalrXUtnFEMI again wJalrXUtnFEMI url=http://a:pw123@h', ['wJalrXUtnFEMI', 'AKIAEXAMPLE']);
    expect(out).toBe('key=*** secret=*** again *** url=http://a:***@h');
  });

  it('ignores undefined, empty and very short secrets', () => {
    expect(redactSecrets('a ab abc', [undefined, '', 'a', 'ab'])).toBe('a ab abc');
    expect(redactSecrets('a ab abc', ['abc'])).toBe('a ab ***');
  });

  it('treats secrets literally (no regex meaning)', () => {
    expect(redactSecrets('x=a.b*c+d y=aXbbbcd', ['a.b*c+d'])).toBe('x=*** y=aXbbbcd');
    expect(redactSecrets('p=$1$(x)', ['$1$(x)'])).toBe('p=***');
  });
});
