/**
 * Splits `schema.table` text into its two parts, honouring double quotes: a quoted part
 * may hold dots, spaces and quotes (doubled), and is marked as quoted so callers can take
 * it literally (a quoted `*` is a character, not a wildcard).
 */
import { CorrenteError } from './errors.js';

/** One part of a qualified name, unquoted. */
export interface NamePart {
  readonly value: string;
  /** Whether the part was written in double quotes. */
  readonly quoted: boolean;
}

/**
 * @returns the schema part and the table part.
 * @throws CorrenteError `CONFIG_INVALID` when the text is not two non-empty parts.
 */
export function splitQualifiedName(text: string): [NamePart, NamePart] {
  const parts: NamePart[] = [];
  let i = 0;
  const s = text.trim();
  while (i <= s.length) {
    let value = '';
    const quoted = s[i] === '"';
    if (quoted) {
      i++;
      for (;;) {
        if (i >= s.length) throw badName(text, 'an opening double quote is never closed');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') value += s[i++];
    }
    parts.push({ value, quoted });
    if (i >= s.length) break;
    if (s[i] !== '.') throw badName(text, 'expected a dot after a quoted name');
    i++;
    if (i === s.length) parts.push({ value: '', quoted: false });
  }
  if (parts.length !== 2 || parts.some((p) => p.value.length === 0)) {
    throw badName(text, 'expected exactly two non-empty parts');
  }
  return [parts[0]!, parts[1]!];
}

function badName(text: string, why: string): CorrenteError {
  return new CorrenteError('CONFIG_INVALID', `Invalid table name ${JSON.stringify(text)}: ${why}`, {
    hint: 'Write tables as schema.table, e.g. core.dim_item; double-quote a part that contains dots, e.g. core."a.b"',
  });
}
