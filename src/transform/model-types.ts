/**
 * What a transforms directory defines: models (SQL or external) and singular tests.
 */
import type { ModelOptions, Severity } from './model-options.js';
import type { ParsedModelFile, TemplateCall } from './parse-model.js';

/** Layers models live in; each is a bucket. */
export const MODEL_LAYERS = ['silver', 'gold'] as const;
export type ModelLayer = (typeof MODEL_LAYERS)[number];

/** One model: a SELECT in `transforms/<layer>/<name>.sql`, or an external table (`.yml` only). */
export interface ModelDef {
  name: string;
  layer: ModelLayer;
  /** The SQL file (or the `.yml` of an external table), as given to the loader. */
  file: string;
  /** The sidecar options file, when options live there. */
  optionsFile?: string;
  options: ModelOptions;
  /** SQL with header lines blanked (lines match the file); empty for external tables. */
  sql: string;
  calls: TemplateCall[];
  sqlHash: string;
  optionsSource: ParsedModelFile['optionsSource'];
  /** Published by `corrente publish`, never run by `transform`. */
  external: boolean;
}

/** A SQL file in `transforms/tests/` returning the rows that break a rule. */
export interface SingularTestDef {
  name: string;
  file: string;
  sql: string;
  calls: TemplateCall[];
  severity: Severity;
}

/** Everything one transforms directory defines. */
export interface TransformProject {
  dir: string;
  models: ReadonlyMap<string, ModelDef>;
  tests: readonly SingularTestDef[];
}

/** The models a model reads (`ref` targets), deduplicated, in order of appearance. */
export function refsOf(def: { calls: readonly TemplateCall[] }): string[] {
  return [...new Set(def.calls.flatMap((c) => (c.kind === 'ref' ? [c.name] : [])))];
}

/** `schema.table` of every `source` call, deduplicated. */
export function sourcesOf(def: { calls: readonly TemplateCall[] }): { schema: string; table: string; line: number }[] {
  const seen = new Map<string, { schema: string; table: string; line: number }>();
  for (const c of def.calls) if (c.kind === 'source' && !seen.has(`${c.schema}.${c.table}`)) seen.set(`${c.schema}.${c.table}`, { schema: c.schema, table: c.table, line: c.line });
  return [...seen.values()];
}
