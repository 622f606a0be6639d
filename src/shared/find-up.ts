/**
 * Looks for something in a folder and the folders above it: how corrente finds the files
 * it ships (package.json, transforms, the dashboard) from wherever its code runs (the
 * sources, dist/, the CLI bundle's chunks, the image).
 */
import { dirname } from 'node:path';

/**
 * The first answer `look` gives for `from`, then its parent, and so on, up to `levels`
 * folders above `from` (to the root when omitted); undefined when none answers.
 */
export function findUp<T>(from: string, look: (dir: string) => T | undefined, levels = Number.POSITIVE_INFINITY): T | undefined {
  for (let dir = from, i = 0; i <= levels; i++) {
    const found = look(dir);
    if (found !== undefined) return found;
    if (dirname(dir) === dir) return undefined;
    dir = dirname(dir);
  }
  return undefined;
}
