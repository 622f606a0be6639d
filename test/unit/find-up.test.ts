import { describe, expect, it } from 'vitest';
import { findUp } from '../../src/shared/find-up.js';

describe('findUp', () => {
  const seen = (found: string) => (dir: string): string | undefined => (dir === found ? `hit ${dir}` : undefined);

  it('answers from the folder itself or the nearest folder above', () => {
    expect(findUp('/a/b/c', seen('/a/b/c'))).toBe('hit /a/b/c');
    expect(findUp('/a/b/c', seen('/a'))).toBe('hit /a');
    expect(findUp('/a/b/c', seen('/'))).toBe('hit /');
  });

  it('looks no higher than `levels` folders above, and stops at the root', () => {
    const asked: string[] = [];
    const none = (dir: string): undefined => {
      asked.push(dir);
      return undefined;
    };
    expect(findUp('/a/b/c', seen('/a'), 1)).toBeUndefined();
    expect(findUp('/a/b/c', seen('/a'), 2)).toBe('hit /a');
    expect(findUp('/a/b', none)).toBeUndefined();
    expect(asked).toEqual(['/a/b', '/a', '/']);
  });
});
