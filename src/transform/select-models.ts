/**
 * Selectors, as in dbt: a model name, `tag:<tag>`, `+model` (with everything it reads),
 * `model+` (with everything that reads it), `+model+`. Several selectors are a union.
 */
import { CorrenteError } from '../shared/errors.js';
import { closest, type ModelGraph } from './model-graph.js';

function closure(start: string, edges: ReadonlyMap<string, readonly string[]>, into: Set<string>): void {
  const todo = [start];
  while (todo.length > 0) {
    const n = todo.pop()!;
    for (const next of edges.get(n) ?? []) {
      if (!into.has(next)) {
        into.add(next);
        todo.push(next);
      }
    }
  }
}

/**
 * The models the selectors pick, in DAG order. No selector: every model.
 * @throws CorrenteError `CONFIG_INVALID` for an unknown model or a tag no model has.
 */
export function selectModels(graph: ModelGraph, selectors: readonly string[]): string[] {
  if (selectors.length === 0) return [...graph.order];
  const picked = new Set<string>();
  for (const raw of selectors.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== '')) {
    if (raw.startsWith('tag:')) {
      const tag = raw.slice(4);
      const hits = [...graph.project.models.values()].filter((m) => m.options.tags.includes(tag));
      if (hits.length === 0) {
        const tags = [...new Set([...graph.project.models.values()].flatMap((m) => m.options.tags))];
        throw new CorrenteError('CONFIG_INVALID', `Selector ${raw}: no model has the tag ${tag}`, { hint: tags.length ? `Tags in use: ${tags.sort().join(', ')}` : 'Add tags: [..] to the model options' });
      }
      for (const m of hits) picked.add(m.name);
      continue;
    }
    const up = raw.startsWith('+');
    const down = raw.endsWith('+') && raw.length > 1;
    const name = raw.slice(up ? 1 : 0, down ? -1 : undefined);
    if (!graph.project.models.has(name)) {
      const guess = closest(name, graph.project.models.keys());
      throw new CorrenteError('CONFIG_INVALID', `Selector ${raw}: no model named ${name}`, {
        hint: guess ? `Did you mean ${guess}? (corrente transform --list shows every model)` : 'corrente transform --list shows every model',
      });
    }
    picked.add(name);
    if (up) closure(name, graph.upstream, picked);
    if (down) closure(name, graph.downstream, picked);
  }
  return graph.order.filter((n) => picked.has(n));
}

/** The DAG as a Mermaid flowchart: sources, then silver and gold models in subgraphs. */
export function renderMermaid(graph: ModelGraph): string {
  const id = (kind: string, name: string): string => `${kind}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const lines = ['flowchart LR'];
  const sources = new Map<string, string>();
  const edges: string[] = [];
  for (const name of graph.order) {
    const def = graph.project.models.get(name)!;
    for (const c of def.calls) {
      if (c.kind !== 'source') continue;
      const key = `${c.schema}.${c.table}`;
      if (!sources.has(key)) sources.set(key, id('src', key));
      edges.push(`  ${sources.get(key)} --> ${id(def.layer, name)}`);
    }
    for (const u of graph.upstream.get(name) ?? []) edges.push(`  ${id(graph.project.models.get(u)!.layer, u)} --> ${id(def.layer, name)}`);
  }
  lines.push('  subgraph bronze');
  for (const [key, node] of sources) lines.push(`    ${node}[("${key}")]`);
  lines.push('  end');
  for (const layer of ['silver', 'gold'] as const) {
    lines.push(`  subgraph ${layer}`);
    for (const name of graph.order) {
      const def = graph.project.models.get(name)!;
      if (def.layer === layer) lines.push(`    ${id(layer, name)}${def.external ? `[/"${name}"/]` : `["${name}"]`}`);
    }
    lines.push('  end');
  }
  return [...lines, ...new Set(edges)].join('\n') + '\n';
}
