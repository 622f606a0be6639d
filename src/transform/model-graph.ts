/**
 * The model DAG: `ref` calls are edges. Checked as a whole before anything runs: every ref
 * and relationship target exists, every var is declared, no cycle, and columns named by
 * tests exist in the model's declared columns.
 */
import { CorrenteError } from '../shared/errors.js';
import { locateOption } from './parse-model.js';
import { refsOf, sourcesOf, type ModelDef, type SingularTestDef, type TransformProject } from './model-types.js';

/** The validated DAG: models in a topological order (inputs first), and edges both ways. */
export interface ModelGraph {
  project: TransformProject;
  /** Every model, inputs before the models that read them; ties by layer then name. */
  order: string[];
  /** model -> the models it refs. */
  upstream: ReadonlyMap<string, readonly string[]>;
  /** model -> the models that ref it. */
  downstream: ReadonlyMap<string, readonly string[]>;
}

function fail(file: string, line: number, what: string, hint: string): never {
  throw new CorrenteError('CONFIG_INVALID', `${file}:${line}: ${what}`, { hint });
}

/** Closest name by edit distance, for "did you mean". */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** `source:schema.table` in a relationships `to`, else a model name. */
export function parseRelationshipTarget(to: string): { kind: 'source'; schema: string; table: string } | { kind: 'ref'; name: string } {
  const m = /^source:([^.]+)\.(.+)$/.exec(to);
  return m ? { kind: 'source', schema: m[1]!, table: m[2]! } : { kind: 'ref', name: to };
}

function checkRefs(project: TransformProject): void {
  const names = project.models.keys();
  const known = [...names];
  const checkOne = (file: string, line: number, name: string, what: string): void => {
    if (project.models.has(name)) return;
    const guess = closest(name, known);
    fail(file, line, `${what} ${JSON.stringify(name)}: no such model`, guess ? `Did you mean ref('${guess}')?` : `Add transforms/silver/${name}.sql or transforms/gold/${name}.sql, or fix the name`);
  };
  for (const def of project.models.values()) {
    for (const c of def.calls) if (c.kind === 'ref') checkOne(def.file, c.line, c.name, 'ref');
    for (const c of def.calls) {
      if (c.kind === 'var' && !(c.name in def.options.vars)) {
        fail(def.file, c.line, `var ${JSON.stringify(c.name)} is not declared`, `Declare it in the model options: vars: { ${c.name}: <value> }`);
      }
    }
    for (const [column, opts] of Object.entries(def.options.columns)) {
      for (const t of opts.tests) {
        if (t.kind !== 'relationships') continue;
        const target = parseRelationshipTarget(t.to);
        const where = locateOption(def.optionsSource, t.to);
        if (target.kind === 'ref') {
          checkOne(where.file, where.line, target.name, `relationships test on ${column}: to`);
          const cols = project.models.get(target.name)!.options.columns;
          const contract = Object.keys(cols).length > 0 && Object.values(cols).every((c) => c.type !== undefined);
          if (contract && !(t.field in cols)) {
            fail(where.file, where.line, `relationships test on ${column}: ${target.name} has no column ${t.field}`, `Columns of ${target.name}: ${Object.keys(cols).join(', ')}`);
          }
        }
      }
    }
  }
  for (const t of project.tests) for (const c of t.calls) if (c.kind === 'ref') checkOne(t.file, c.line, c.name, 'ref');
}

/**
 * Columns a model's own options name (unique key, unique tests) must be among its declared
 * columns when it declares its full contract (every column typed); otherwise they are
 * checked against the SELECT's columns just before the model runs.
 */
function checkColumns(def: ModelDef): void {
  const declared = Object.keys(def.options.columns);
  if (declared.length === 0 || Object.values(def.options.columns).some((c) => c.type === undefined)) return;
  const named: string[] = [...(def.options.unique_key ?? []), ...def.options.tests.flatMap((t) => (t.kind === 'unique' ? t.columns : []))];
  for (const col of named) {
    if (declared.includes(col)) continue;
    const where = locateOption(def.optionsSource, col);
    const guess = closest(col, declared);
    fail(where.file, where.line, `unknown column ${col} in the options of model ${def.name}`, guess ? `Did you mean ${guess}?` : `Declared columns: ${declared.join(', ')}`);
  }
}

/**
 * Builds and checks the DAG.
 * @throws CorrenteError `CONFIG_INVALID` naming file and line: a missing ref (with the
 *   closest name), an undeclared var, an unknown column, or a cycle (with its path).
 */
export function buildModelGraph(project: TransformProject): ModelGraph {
  checkRefs(project);
  for (const def of project.models.values()) checkColumns(def);
  const upstream = new Map<string, string[]>();
  const downstream = new Map<string, string[]>();
  for (const def of project.models.values()) {
    // A relationships test reads its target: build the target first.
    const tested = Object.values(def.options.columns).flatMap((c) =>
      c.tests.flatMap((t) => {
        if (t.kind !== 'relationships') return [];
        const target = parseRelationshipTarget(t.to);
        return target.kind === 'ref' && target.name !== def.name ? [target.name] : [];
      }),
    );
    upstream.set(def.name, [...new Set([...refsOf(def), ...tested])]);
    downstream.set(def.name, []);
  }
  for (const [name, ups] of upstream) for (const u of ups) downstream.get(u)!.push(name);
  const rank = (n: string): string => `${project.models.get(n)!.layer === 'silver' ? 0 : 1}${n}`;
  const byRank = (a: string, b: string): number => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0);
  // Kahn's algorithm, always taking the ready model that ranks first (silver, then by name).
  const waiting = new Map([...upstream].map(([n, ups]) => [n, new Set(ups)]));
  const order: string[] = [];
  for (;;) {
    const ready = [...waiting].filter(([, ups]) => ups.size === 0).map(([n]) => n).sort(byRank);
    if (ready.length === 0) break;
    const next = ready[0]!;
    order.push(next);
    waiting.delete(next);
    for (const ups of waiting.values()) ups.delete(next);
  }
  if (waiting.size > 0) reportCycle(project, upstream, [...waiting.keys()].sort(byRank));
  return { project, order, upstream, downstream };
}

/** Finds a cycle among `candidates` (models left when no model was ready) and fails naming it. */
function reportCycle(project: TransformProject, upstream: ReadonlyMap<string, readonly string[]>, candidates: string[]): never {
  const left = new Set(candidates);
  const stack: string[] = [];
  const onStack = new Set<string>();
  const done = new Set<string>();
  const visit = (n: string): void => {
    if (done.has(n)) return;
    if (onStack.has(n)) {
      const cycle = [...stack.slice(stack.indexOf(n)), n];
      const from = project.models.get(stack.at(-1)!)!;
      const call = from.calls.find((c) => c.kind === 'ref' && c.name === n);
      const where = call ? { file: from.file, line: call.line } : locateOption(from.optionsSource, n);
      fail(where.file, where.line, `models form a cycle: ${cycle.join(' -> ')}`, 'A model cannot read itself through its inputs: remove one of these ref() calls (or relationships tests)');
    }
    onStack.add(n);
    stack.push(n);
    for (const u of upstream.get(n) ?? []) if (left.has(u)) visit(u);
    stack.pop();
    onStack.delete(n);
    done.add(n);
  };
  for (const n of candidates) visit(n);
  throw new CorrenteError('INTERNAL', 'cycle expected but not found');
}

/** Every `source` a set of models reads, with the first place each is read. */
export function sourcesRead(graph: ModelGraph, models: Iterable<string>): { schema: string; table: string; file: string; line: number }[] {
  const seen = new Map<string, { schema: string; table: string; file: string; line: number }>();
  for (const name of models) {
    const def = graph.project.models.get(name)!;
    for (const s of sourcesOf(def)) if (!seen.has(`${s.schema}.${s.table}`)) seen.set(`${s.schema}.${s.table}`, { ...s, file: def.file });
    for (const [, opts] of Object.entries(def.options.columns)) {
      for (const t of opts.tests) {
        if (t.kind !== 'relationships') continue;
        const target = parseRelationshipTarget(t.to);
        if (target.kind === 'source' && !seen.has(`${target.schema}.${target.table}`)) {
          const where = locateOption(def.optionsSource, t.to);
          seen.set(`${target.schema}.${target.table}`, { schema: target.schema, table: target.table, ...where });
        }
      }
    }
  }
  return [...seen.values()];
}

/**
 * The singular tests that run with `model`: each test runs with the model it reads that
 * comes last in DAG order, so every other model it reads is built first.
 */
export function singularTestsOf(graph: ModelGraph, model: string): SingularTestDef[] {
  const rank = new Map(graph.order.map((n, i) => [n, i]));
  return graph.project.tests.filter((t) => {
    const refs = t.calls.flatMap((c) => (c.kind === 'ref' ? [c.name] : []));
    const owner = refs.sort((a, b) => (rank.get(a) ?? -1) - (rank.get(b) ?? -1)).at(-1);
    return owner === model;
  });
}
