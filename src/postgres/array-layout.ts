/**
 * Decides, per array column, whether its values fit a Parquet LIST. Postgres does not
 * enforce an array column's declared dimensions: an `int4[]` column may hold `{1,2}`,
 * `{{1,2},{3,4}}` and `[0:2]={7,8,9}` side by side. A LIST (nested for N dimensions) is
 * exact only when every value has the same number of dimensions and every lower bound
 * is 1; otherwise the column keeps its Postgres text form, with the reason recorded.
 *
 * The check is one aggregate over the export snapshot, run only for tables that have
 * array columns (tables without any pay nothing).
 */
import type { ArrayLayout, ArrayLayouts } from '../shared/array-layout.js';
import { quoteIdent, type ColumnSpec, type TableSchema } from '../shared/table-schema.js';
import { qualifiedName, type RowFilter } from './copy-sql.js';

/** Columns the layout check looks at: the ones mapped to a LIST. */
export function arrayColumns(schema: TableSchema): ColumnSpec[] {
  return schema.columns.filter((c) => c.type.kind === 'list');
}

/**
 * `array_dims` prints `[1:3][1:2]`; once every `[1:` is removed, a `[` left over is a
 * lower bound other than 1 (`[0:`, `[-3:`, `[10:` all survive the replace).
 */
function oddBounds(c: string): string {
  return `strpos(replace(array_dims(${c}), '[1:', ''), '[') > 0`;
}

/** One SELECT with, per array column `i`: `a{i}_min`, `a{i}_max` (dimensions), `a{i}_odd` (an example of odd bounds), `a{i}_nan`. */
export function buildArrayLayoutSql(schema: TableSchema, filter?: RowFilter): string {
  const parts: string[] = [];
  schema.columns.forEach((col, i) => {
    if (col.type.kind !== 'list') return;
    const c = quoteIdent(col.name);
    parts.push(`min(array_ndims(${c})) AS a${i}_min`, `max(array_ndims(${c})) AS a${i}_max`, `min(array_dims(${c})) FILTER (WHERE ${oddBounds(c)}) AS a${i}_odd`);
    // DECIMAL has no NaN: such a column is kept as text rather than failing the export.
    if (col.type.element.kind === 'decimal') parts.push(`bool_or('NaN' = ANY(${c})) AS a${i}_nan`);
  });
  const where = filter ? ` WHERE ${filter.sql}` : '';
  return `SELECT ${parts.join(', ')} FROM ${qualifiedName(schema)}${where}`;
}

/** Reads the check's single row into a layout per array column. */
export function readArrayLayouts(schema: TableSchema, row: Record<string, unknown>): ArrayLayouts {
  const out: ArrayLayouts = {};
  schema.columns.forEach((col, i) => {
    if (col.type.kind !== 'list') return;
    out[col.name] = decide(col, {
      min: row[`a${i}_min`] as number | null,
      max: row[`a${i}_max`] as number | null,
      odd: row[`a${i}_odd`] as string | null,
      nan: row[`a${i}_nan`] === true,
    });
  });
  return out;
}

function decide(col: ColumnSpec, seen: { min: number | null; max: number | null; odd: string | null; nan: boolean }): ArrayLayout {
  const declared = col.type.kind === 'list' ? (col.type.dims ?? 1) : 1;
  if (seen.odd !== null) return { text: `holds arrays whose lower bound is not 1 (e.g. ${seen.odd}), which a LIST cannot represent; kept as Postgres array text` };
  if (seen.min !== null && seen.max !== null && seen.min !== seen.max) {
    return { text: `holds arrays of ${seen.min} to ${seen.max} dimensions, which one LIST type cannot represent; kept as Postgres array text` };
  }
  if (seen.nan) return { text: 'holds NaN elements, which DECIMAL cannot store; kept as Postgres array text' };
  // Only empty or NULL arrays: nothing contradicts the declaration.
  return { dims: seen.max ?? declared };
}

/** The schema with each array column's layout applied: a LIST of the right depth, or text. */
export function applyArrayLayouts(schema: TableSchema, layouts: ArrayLayouts): TableSchema {
  return {
    ...schema,
    columns: schema.columns.map((col) => {
      const layout = layouts[col.name];
      if (col.type.kind !== 'list' || !layout) return col;
      if ('text' in layout) return { name: col.name, pgType: col.pgType, nullable: col.nullable, type: { kind: 'text' }, note: layout.text };
      return { ...col, type: { ...col.type, dims: layout.dims } };
    }),
  };
}
