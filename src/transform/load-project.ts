/**
 * Reads a transforms directory: `silver/*.sql`, `gold/*.sql` (options in a header comment
 * or a sidecar `<model>.yml`), `<layer>/<name>.yml` alone for external tables, and
 * `tests/*.sql` singular tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CorrenteError } from '../shared/errors.js';
import { findUp } from '../shared/find-up.js';
import { SEVERITIES } from './model-options.js';
import { extractCalls, lineAt, parseModelFile, splitHeader, stripTrailingSemicolon } from './parse-model.js';
import { MODEL_LAYERS, type ModelDef, type SingularTestDef, type TransformProject } from './model-types.js';
import { parseDocument } from 'yaml';

/** Model names become key segments and SQL identifiers: keep them plain. */
const MODEL_NAME = /^[a-z_][a-z0-9_]*$/;

const testHeaderSchema = z.strictObject({ severity: z.enum(SEVERITIES).default('error'), description: z.string().optional() });

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Loads every model and singular test under `dir`. File names in messages are relative to
 * the working directory.
 * @throws CorrenteError `CONFIG_INVALID` for a missing directory, a bad name, bad options,
 *   or two models with the same name, naming the files and lines.
 */
export function loadTransformProject(dir: string): TransformProject {
  const root = resolve(dir);
  if (!existsSync(root)) {
    throw new CorrenteError('CONFIG_INVALID', `Transforms directory ${dir} does not exist`, {
      option: 'transform.dir',
      hint: 'Create it with silver/ and gold/ subdirectories of .sql models, or set transform.dir in corrente.yaml',
    });
  }
  const shown = (p: string): string => relative(process.cwd(), p) || p;
  const models = new Map<string, ModelDef>();
  for (const layer of MODEL_LAYERS) {
    const folder = join(root, layer);
    const names = list(folder);
    for (const entry of names) {
      const m = /^(.*)\.(sql|yml|yaml)$/.exec(entry);
      if (!m) continue;
      const [, name, ext] = m as unknown as [string, string, string];
      const sqlFile = join(folder, `${name}.sql`);
      if (ext !== 'sql' && names.includes(`${name}.sql`)) continue; // a sidecar, read with its SQL
      const file = ext === 'sql' ? sqlFile : join(folder, entry);
      if (!MODEL_NAME.test(name)) {
        throw new CorrenteError('CONFIG_INVALID', `${shown(file)}:1: model name ${JSON.stringify(name)} is not allowed`, {
          hint: 'Name model files in lower case letters, digits and underscores, e.g. fact_demand_daily.sql',
        });
      }
      const previous = models.get(name);
      if (previous) {
        throw new CorrenteError('CONFIG_INVALID', `${shown(file)}:1: model ${name} is defined twice (also in ${previous.file})`, {
          hint: 'Model names are unique across layers (ref() takes only the name): rename or remove one of the files',
        });
      }
      let def: ModelDef;
      if (ext === 'sql') {
        const sidecarPath = ['yml', 'yaml'].map((e) => join(folder, `${name}.${e}`)).find((p) => existsSync(p));
        const sidecar = sidecarPath ? { text: readFileSync(sidecarPath, 'utf8'), file: shown(sidecarPath) } : undefined;
        const parsed = parseModelFile(readFileSync(sqlFile, 'utf8'), shown(sqlFile), sidecar);
        def = { name, layer, file: shown(sqlFile), ...(sidecar ? { optionsFile: sidecar.file } : {}), ...parsed, external: parsed.options.external };
        if (def.external) {
          throw new CorrenteError('CONFIG_INVALID', `${def.file}:1: model ${name} has SQL but is marked external: true`, {
            hint: 'External tables (published by `corrente publish`) are a .yml alone: remove the .sql or the external flag',
          });
        }
      } else {
        const text = readFileSync(file, 'utf8');
        const parsed = parseModelFile('', shown(file), { text, file: shown(file) });
        if (!parsed.options.external) {
          throw new CorrenteError('CONFIG_INVALID', `${shown(file)}:1: ${entry} has no ${name}.sql beside it`, {
            hint: 'Add the SQL model, or declare a table published by `corrente publish` with external: true',
          });
        }
        def = { name, layer, file: shown(file), optionsFile: shown(file), ...parsed, external: true };
      }
      models.set(name, def);
    }
  }
  const tests: SingularTestDef[] = [];
  for (const entry of list(join(root, 'tests'))) {
    if (!entry.endsWith('.sql')) continue;
    const file = shown(join(root, 'tests', entry));
    const text = readFileSync(join(root, 'tests', entry), 'utf8');
    const head = splitHeader(text);
    let severity: SingularTestDef['severity'] = 'error';
    if (head.yaml !== undefined) {
      const parsed = testHeaderSchema.safeParse(parseDocument(head.yaml).toJS() ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const what = issue.code === 'unrecognized_keys' ? `unknown test option ${issue.keys.join(', ')}` : `invalid test option ${issue.path.join('.')}: ${issue.message}`;
        throw new CorrenteError('CONFIG_INVALID', `${file}:${head.yamlLine}: ${what}`, { hint: 'A singular test header takes severity (error|warn) and description' });
      }
      severity = parsed.data.severity;
    }
    const sql = stripTrailingSemicolon(head.sql);
    if (sql.trim() === '') throw new CorrenteError('CONFIG_INVALID', `${file}:${lineAt(text, text.length)}: the test has no SELECT`, { hint: 'Write a SELECT returning the rows that break the rule' });
    tests.push({ name: entry.slice(0, -'.sql'.length), file, sql, calls: extractCalls(sql, file), severity });
  }
  return { dir: root, models, tests };
}

/**
 * The transforms shipped with corrente (the sample silver and gold models), found by
 * walking up from this module to the package root; undefined when not installed with it.
 */
export function shippedTransformsDir(): string | undefined {
  const shipped = (dir: string): string | undefined => (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'transforms', 'silver')) ? join(dir, 'transforms') : undefined);
  return findUp(dirname(fileURLToPath(import.meta.url)), shipped, 5);
}
