/**
 * The CI skip policy of test/helpers/known-limits.ts: a skip is allowed off CI, or under
 * CI when README's Known limits starts an item with the key and a reason.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isCi, isKnownLimit, knownLimits, skipAllowed } from '../helpers/known-limits.js';

const README = `# x

## Known limits

Intro text.

- \`fake-tool\`: not packaged for Debian, so its check runs
  only on developers' machines.
- \`bare\`
- No \`other-tool\` here: mentioned, not listed as a key.

## Development
- \`after\`: outside the section, so it does not count at all.
`;

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('known limits', () => {
  it('reads the items of the section, continuation lines joined', () => {
    expect(knownLimits(README)).toEqual([
      "`fake-tool`: not packaged for Debian, so its check runs only on developers' machines.",
      '`bare`',
      'No `other-tool` here: mentioned, not listed as a key.',
    ]);
    expect(knownLimits('# no section\n- `x`: a b c')).toEqual([]);
  });

  it('counts an item only when it starts with the key and gives a reason', () => {
    expect(isKnownLimit('fake-tool', README)).toBe(true);
    expect(isKnownLimit('bare', README)).toBe(false);
    expect(isKnownLimit('other-tool', README)).toBe(false);
    expect(isKnownLimit('after', README)).toBe(false);
  });

  it('lists every key the test suite skips on', () => {
    for (const key of ['s3rver-sigv4', 's3rver-list-uploads']) expect(isKnownLimit(key), key).toBe(true);
    // CI installs these, so they must NOT be excused.
    for (const key of ['docker-compose', 'redis-server', 'tmpfs']) expect(isKnownLimit(key), key).toBe(false);
  });

  it('allows an unlisted skip off CI only', () => {
    vi.stubEnv('CI', '');
    expect(isCi()).toBe(false);
    expect(skipAllowed('no-such-tool')).toBe(true);
    vi.stubEnv('CI', 'true');
    expect(isCi()).toBe(true);
    expect(skipAllowed('no-such-tool')).toBe(false);
    expect(skipAllowed('s3rver-sigv4')).toBe(true);
  });
});
