import { describe, expect, it } from 'vitest';
import { formatCount } from '../../cli/render.js';

describe('formatCount', () => {
  it('groups digits by thousands as en-US does, without ICU', () => {
    for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 20000000, 1234567890123, -1234567, 1234.5, 0.25]) {
      expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US', { maximumFractionDigits: 20 }));
    }
  });
});
