/**
 * Parsing one model file: the YAML header (`/* --- ... --- *\/`) or sidecar, and the
 * `{{ ref('x') }}`, `{{ source('schema', 'table') }}` and `{{ var('name') }}` calls in the
 * SQL, each with its line. Pure: the caller reads the files.
 */
import { createHash } from 'node:crypto';
import { isMap, isPair, isScalar, parseDocument, type Document } from 'yaml';
import type { ZodError } from 'zod';
import { CorrenteError } from '../shared/errors.js';
import { modelOptionsSchema, type ModelOptions } from './model-options.js';

/** Where a definition came from, for messages: `transforms/gold/dim_item.sql:3`. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** One `{{ ... }}` call in a model's SQL. */
export type TemplateCall =
  | { kind: 'ref'; name: string; line: number; start: number; end: number }
  | { kind: 'source'; schema: string; table: string; line: number; start: number; end: number }
  | { kind: 'var'; name: string; line: number; start: number; end: number };

/** A model file split into its options and its SQL, with its template calls. */
export interface ParsedModelFile {
  options: ModelOptions;
  /** The SQL after the header (comments and blank lines kept, so lines match the file). */
  sql: string;
  calls: TemplateCall[];
  /** sha256 of the whole file text: changes when the SQL or its options change. */
  sqlHash: string;
  /** Where the options text is, to point messages at a line of it. */
  optionsSource: { file: string; text: string; firstLine: number };
}

/** The line of the first occurrence of `needle` in an options text (its first line when absent). */
export function locateOption(src: ParsedModelFile['optionsSource'], needle: string): SourceLocation {
  const at = src.text.indexOf(needle);
  return { file: src.file, line: at < 0 ? src.firstLine : src.firstLine + lineAt(src.text, at) - 1 };
}

const HEADER = /^(\s*)\/\*\s*---[^\n]*\n([\s\S]*?)\n[ \t]*---\s*\*\//;

/** The line (1-based) of character offset `at` in `text`. */
export function lineAt(text: string, at: number): number {
  let line = 1;
  for (let i = 0; i < at && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function definitionError(where: SourceLocation, what: string, hint: string): CorrenteError {
  return new CorrenteError('CONFIG_INVALID', `${where.file}:${where.line}: ${what}`, { hint });
}

/**
 * Parses YAML options and validates them.
 * @param firstLine - the file line the YAML text starts on (for messages).
 * @throws CorrenteError `CONFIG_INVALID` naming file, line and key.
 */
export function parseModelOptions(yamlText: string, file: string, firstLine: number): ModelOptions {
  const doc = parseDocument(yamlText, { prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = firstLine + lineAt(yamlText, e.pos[0]) - 1;
    throw definitionError({ file, line }, `invalid YAML: ${e.message.split('\n')[0]}`, 'Fix the YAML in the model header');
  }
  const raw: unknown = doc.toJS() ?? {};
  const parsed = modelOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw optionsError(parsed.error, doc, yamlText, file, firstLine);
}

function optionsError(error: ZodError, doc: Document, yamlText: string, file: string, firstLine: number): CorrenteError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String);
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const offset = nodeOffset(doc, path, keys[0]);
  const line = offset === undefined ? firstLine : firstLine + lineAt(yamlText, offset) - 1;
  const shown = path.join('.');
  if (keys.length > 0) {
    const full = keys.map((k) => (shown ? `${shown}.${k}` : k)).join(', ');
    return definitionError({ file, line }, `unknown model option ${full}`, 'Remove it or fix its spelling; see "Transforms" in the README for the model options');
  }
  return definitionError({ file, line }, `invalid model option ${shown || '(root)'}: ${issue.message}`, 'See "Transforms" in the README for the model options');
}

/** Offset of the node at `path` (or of key `key` inside it) in the YAML text. */
function nodeOffset(doc: Document, path: string[], key?: string): number | undefined {
  let node: unknown = doc.contents;
  for (const p of path) {
    const next = (node as { get?: (k: unknown, keep: boolean) => unknown } | null)?.get?.(isMap(node) ? p : Number(p), true);
    if (next === undefined) break;
    node = next;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === key);
    if (pair && isScalar(pair.key)) return pair.key.range?.[0];
  }
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

const CALL = /\{\{\s*([A-Za-z_]\w*)\s*\(([^)]*)\)\s*\}\}|\{\{[\s\S]*?\}\}/g;
const ARG = /^\s*(?:'([^']*)'|"([^"]*)")\s*$/;

function parseArgs(text: string): string[] | undefined {
  if (text.trim() === '') return [];
  const out: string[] = [];
  for (const part of text.split(',')) {
    const m = ARG.exec(part);
    if (!m) return undefined;
    out.push(m[1] ?? m[2]!);
  }
  return out;
}

/**
 * Finds every `{{ ... }}` call in `sql`.
 * @param lineOffset - lines before `sql` in the file.
 * @throws CorrenteError `CONFIG_INVALID` for an unknown call or bad arguments.
 */
export function extractCalls(sql: string, file: string, lineOffset = 0): TemplateCall[] {
  const calls: TemplateCall[] = [];
  for (const m of sql.matchAll(CALL)) {
    const line = lineOffset + lineAt(sql, m.index);
    const where = { file, line };
    const [text, fn, argText] = m;
    const args = argText === undefined ? undefined : parseArgs(argText);
    const span = { line, start: m.index, end: m.index + text.length };
    if (fn === 'ref' && args?.length === 1) calls.push({ kind: 'ref', name: args[0]!, ...span });
    else if (fn === 'source' && args?.length === 2) calls.push({ kind: 'source', schema: args[0]!, table: args[1]!, ...span });
    else if (fn === 'var' && args?.length === 1) calls.push({ kind: 'var', name: args[0]!, ...span });
    else {
      throw definitionError(where, `cannot read ${text.replace(/\s+/g, ' ')}`, `Use {{ ref('model') }}, {{ source('schema', 'table') }} or {{ var('name') }} with quoted arguments`);
    }
  }
  return calls;
}

/** A file's YAML header and its SQL with the header's lines blanked (so lines match the file). */
export function splitHeader(text: string): { yaml?: string; yamlLine: number; sql: string } {
  const m = HEADER.exec(text);
  if (!m) return { yamlLine: 0, sql: text };
  const yamlStart = m[1]!.length + m[0].indexOf('\n', m[1]!.length) + 1;
  return { yaml: m[2]!, yamlLine: lineAt(text, yamlStart), sql: '\n'.repeat(lineAt(text, m[0].length) - 1) + text.slice(m[0].length) };
}

/**
 * Splits a model file into options and SQL. Options come from the header comment, or
 * from `sidecar` (the text of `<model>.yml`) when given; having both is an error.
 */
export function parseModelFile(text: string, file: string, sidecar?: { text: string; file: string }): ParsedModelFile {
  const head = splitHeader(text);
  if (head.yaml !== undefined && sidecar) {
    throw definitionError({ file, line: 1 }, `options are given both in the header and in ${sidecar.file}`, 'Keep them in one place');
  }
  const options =
    head.yaml !== undefined ? parseModelOptions(head.yaml, file, head.yamlLine) : sidecar ? parseModelOptions(sidecar.text, sidecar.file, 1) : modelOptionsSchema.parse({});
  const sql = stripTrailingSemicolon(head.sql);
  if (sql.trim() === '' && !options.external) {
    throw definitionError({ file, line: 1 }, 'the model has no SELECT', 'Write one SELECT statement after the header, or mark a table published by `corrente publish` with `external: true` in a .yml');
  }
  const calls = extractCalls(sql, file);
  const hash = createHash('sha256').update(text);
  if (sidecar) hash.update(sidecar.text);
  const optionsSource =
    head.yaml !== undefined ? { file, text: head.yaml, firstLine: head.yamlLine } : sidecar ? { file: sidecar.file, text: sidecar.text, firstLine: 1 } : { file, text: '', firstLine: 1 };
  return { options, sql, calls, sqlHash: hash.digest('hex'), optionsSource };
}

/** Drops one trailing `;` (and what follows it when only whitespace or comments): models are wrapped in parentheses. */
export function stripTrailingSemicolon(sql: string): string {
  return sql.replace(/;(\s|--[^\n]*)*$/, (m) => m.slice(1));
}

/** Replaces every call in `sql` with the text `replace` returns for it. */
export function renderSql(sql: string, calls: readonly TemplateCall[], replace: (call: TemplateCall) => string): string {
  let out = '';
  let at = 0;
  for (const c of [...calls].sort((a, b) => a.start - b.start)) {
    out += sql.slice(at, c.start) + replace(c);
    at = c.end;
  }
  return out + sql.slice(at);
}
