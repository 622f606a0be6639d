/**
 * The options a model declares in its YAML header (or sidecar `.yml`): description, tags,
 * unique key, columns with types and tests, table-level tests, quarantine rules and
 * variables. Validated with zod; unknown keys are rejected by name.
 */
import { z } from 'zod';

/** What a failing test does: `error` blocks the publish, `warn` only reports. */
export const SEVERITIES = ['error', 'warn'] as const;
export type Severity = (typeof SEVERITIES)[number];

const severity = z.enum(SEVERITIES).default('error');
const sqlText = z.string().min(1);
const identifier = z.string().min(1);

/** `relationships: { to: dim_item, field: item_id }`: every value exists in `to.field`. */
const relationshipsSchema = z.strictObject({
  /** A model name (`dim_item`) or an exported table (`source:core.dim_item`). */
  to: z.string().min(1),
  field: identifier,
  severity,
});

const expressionSchema = z.union([sqlText.transform((sql) => ({ sql, severity: 'error' as Severity })), z.strictObject({ sql: sqlText, severity })]);

/** `not_null` alone is `{ not_null: {} }`: one shape, so unknown names are reported by key. */
const bareName = (v: unknown): unknown => (typeof v === 'string' ? { [v]: {} } : v);
const exactlyOne = (t: object): boolean => Object.keys(t).length === 1;
const ONE_TEST = { message: 'give exactly one test per list entry' };

/** Tests attached to one column, dbt style: a name, or a one-key mapping with arguments. */
export const columnTestSchema = z.preprocess(
  bareName,
  z
    .strictObject({
      not_null: z.strictObject({ severity }).optional(),
      unique: z.strictObject({ severity }).optional(),
      accepted_values: z.strictObject({ values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1), severity }).optional(),
      relationships: relationshipsSchema.optional(),
      expression: expressionSchema.optional(),
    })
    .refine(exactlyOne, ONE_TEST)
    .transform((t) => {
      if (t.not_null) return { kind: 'not_null' as const, severity: t.not_null.severity };
      if (t.unique) return { kind: 'unique' as const, severity: t.unique.severity };
      if (t.accepted_values) return { kind: 'accepted_values' as const, ...t.accepted_values };
      if (t.relationships) return { kind: 'relationships' as const, ...t.relationships };
      return { kind: 'expression' as const, ...t.expression! };
    }),
);

/** Tests over the whole model: a composite unique key, or a row expression. */
export const modelTestSchema = z
  .strictObject({
    unique: z.strictObject({ columns: z.array(identifier).min(1), severity }).optional(),
    expression: expressionSchema.optional(),
  })
  .refine(exactlyOne, ONE_TEST)
  .transform((t) => (t.unique ? { kind: 'unique' as const, ...t.unique } : { kind: 'expression' as const, ...t.expression! }));

export const columnOptionsSchema = z.strictObject({
  description: z.string().optional(),
  /** DuckDB type the column must have (`INTEGER`, `DECIMAL(14,3)`, ...): the model's contract. */
  type: z.string().min(1).optional(),
  /** `false`: a NULL is refused (a `not_null` test with severity error). */
  nullable: z.boolean().default(true),
  tests: z.array(columnTestSchema).default([]),
});

/** A row-level rule: rows where `sql` is not true go to `_quarantine_<model>` instead. */
const quarantineRuleSchema = z.strictObject({ name: z.string().regex(/^[A-Za-z0-9_]+$/, 'use letters, digits and underscores'), sql: sqlText });

export const modelOptionsSchema = z.strictObject({
  description: z.string().optional(),
  tags: z.array(z.string().min(1)).default([]),
  /** Columns that identify a row (recorded as the primary key in the manifest). */
  unique_key: z.union([identifier.transform((c) => [c]), z.array(identifier).min(1)]).optional(),
  columns: z.record(z.string(), columnOptionsSchema).default({}),
  tests: z.array(modelTestSchema).default([]),
  quarantine: z.array(quarantineRuleSchema).default([]),
  /** Values the SQL reads with `{{ var('name') }}` (e.g. a forecast horizon). */
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  /** `true`: the table is published by `corrente publish` (no SQL), for contracts and tests. */
  external: z.boolean().default(false),
});

export type ModelOptions = z.output<typeof modelOptionsSchema>;
export type ColumnOptions = z.output<typeof columnOptionsSchema>;
export type ColumnTest = z.output<typeof columnTestSchema>;
export type ModelTest = z.output<typeof modelTestSchema>;
export type QuarantineRule = ModelOptions['quarantine'][number];
