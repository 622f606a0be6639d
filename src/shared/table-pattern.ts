/**
 * Table selectors as Sling users write them: `core.fact_demand_daily` names one table,
 * `core.*` every table of a schema, `core.tmp_*` or `*.fact_*` the tables whose names fit.
 * `*` in an unquoted part matches any run of characters (none included); a double-quoted
 * part is always literal (`core."a*b"` is the table named `a*b`). Matching is
 * case-sensitive, like Postgres catalog names.
 */
import { splitQualifiedName, type NamePart } from './qualified-name.js';
import { formatTableRef, type TableRef } from './table-schema.js';

/** One parsed selector: an exact table name, or a pattern over schema and table names. */
export interface TableSelector {
  /** The text as written, for messages. */
  readonly text: string;
  /** The exact table when neither part holds a wildcard. */
  readonly exact?: TableRef;
  /** The schema when that part holds no wildcard (`core` in `core.fact_*`). */
  readonly schema?: string;
  /** Whether a table's name fits this selector. */
  matches(ref: TableRef): boolean;
}

/** True when the text holds a wildcard outside double quotes (a pattern, not one table). */
export function isTablePattern(text: string): boolean {
  return splitQualifiedName(text).some(isGlob);
}

/**
 * Parses `schema.table` or a pattern.
 * @throws CorrenteError `CONFIG_INVALID` when the text is not two non-empty parts.
 */
export function parseTableSelector(text: string): TableSelector {
  const [schema, name] = splitQualifiedName(text);
  if (!isGlob(schema) && !isGlob(name)) {
    const exact: TableRef = { schema: schema.value, name: name.value };
    const key = formatTableRef(exact);
    return { text, exact, schema: exact.schema, matches: (ref) => formatTableRef(ref) === key };
  }
  const s = partMatcher(schema);
  const n = partMatcher(name);
  return { text, ...(isGlob(schema) ? {} : { schema: schema.value }), matches: (ref) => s(ref.schema) && n(ref.name) };
}

function isGlob(part: NamePart): boolean {
  return !part.quoted && part.value.includes('*');
}

function partMatcher(part: NamePart): (value: string) => boolean {
  if (!isGlob(part)) return (value) => value === part.value;
  const source = part.value.split('*').map(escapeRegExp).join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (value) => re.test(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
