// Lint = the layering of ../shared/STYLE.md Part C (README, Development: "Layers") plus a small set of
// correctness rules. The layer rules are the point: they fail CI when an import points the
// wrong way, skips a module's index.ts, or pulls an SDK out of its one home.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const root = import.meta.dirname;

/** Entry points: they may import every inner layer. `src/api` is the coming HTTP edge. */
const EDGES = ['cli', 'workers', 'scheduler', 'src/api'];
/** Use cases and the queue side: compose domain modules. `src/demo` seeds sample data. */
const MIDDLE = ['src/runtime', 'src/pipeline', 'src/demo', 'queues'];
/** One module per external system or concept; siblings never import each other. */
const DOMAIN = ['src/postgres', 'src/duckdb', 'src/storage', 'src/lake', 'src/transform'];
/** Domain pairs allowed to meet directly: [importer, imported]. */
const DOMAIN_PAIRS = [['src/lake', 'src/storage']];
/** Folders whose other files are reached only through their `index.ts`. */
const MODULES = [...DOMAIN, 'src/config', 'src/pipeline', 'src/runtime', 'src/demo', 'queues'];
/** Every folder of the project that layer rules speak about. */
const ALL = [...EDGES, ...MIDDLE, ...DOMAIN, 'src/config', 'src/shared', 'bench', 'test'];

// A new folder under src/ must be placed in a layer above, or its imports go unchecked.
const unplaced = readdirSync(join(root, 'src'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !ALL.includes(`src/${d.name}`))
  .map((d) => `src/${d.name}`);
if (unplaced.length > 0) {
  throw new Error(`eslint.config.js: put ${unplaced.join(', ')} in EDGES, MIDDLE or DOMAIN so its imports are checked`);
}

const below = (dir) => `${dir}/**`;
const except = (list, ...drop) => list.filter((d) => !drop.includes(d));

/** @type {{target: string | string[], from: string | string[], except?: string[], message: string}[]} */
const zones = [
  {
    target: 'src/shared',
    from: except(ALL, 'src/shared'),
    message: 'src/shared is the leaf: it imports nothing from the project.',
  },
  {
    target: 'src/config',
    from: [...EDGES, ...MIDDLE, ...DOMAIN, 'bench', 'test'],
    message: 'src/config sits below the domain modules: it may import only src/shared.',
  },
  ...DOMAIN.map((dir) => ({
    target: dir,
    from: [
      ...except(DOMAIN, dir, ...DOMAIN_PAIRS.filter(([a]) => a === dir).map(([, b]) => b)),
      ...MIDDLE,
      ...EDGES,
      'bench',
      'test',
    ],
    message:
      'Domain modules import only src/config and src/shared (and src/lake -> src/storage); ' +
      'compose siblings in src/pipeline and meet through neutral types in src/shared.',
  })),
  {
    // src/api is an edge that happens to live under src/; every other src/ folder is inner.
    target: 'src/!(api)/**',
    from: ['queues', 'workers', 'cli', 'scheduler', 'src/api', 'bench', 'test'],
    message: 'Nothing under src/ imports queues/, workers/, cli/, scheduler/ or src/api.',
  },
  {
    target: 'queues',
    from: ['src/pipeline', 'src/lake', 'src/runtime', ...EDGES, 'bench', 'test'],
    message: 'queues/ knows payloads, producers and the run store: never processors, pipelines or the lake.',
  },
  {
    target: ['workers', 'scheduler', 'src/api'],
    from: ['cli'],
    message: 'cli/ is the top edge: other edges do not import it.',
  },
  ...MODULES.map((dir) => ({
    // Files outside the module (tests aside: they may reach internals to unit-test them).
    target: [...except(ALL, dir, 'test', 'src/shared').map(below)],
    from: dir,
    except: ['./index.ts'],
    message: `Import ${dir} through its index.ts (its public surface), not a file inside it.`,
  })),
];

/** Each SDK has one home; importing it anywhere else is an error. */
const SDK_HOMES = {
  pg: ['src/postgres'],
  '@duckdb/node-api': ['src/duckdb'],
  '@aws-sdk/*': ['src/storage'],
  bullmq: ['queues', 'workers', 'scheduler'],
  ioredis: ['queues', 'workers', 'scheduler'],
  pino: ['cli', 'workers', 'scheduler', 'src/api'],
  fastify: ['src/api'],
  '@fastify/*': ['src/api'],
  '@bull-board/*': ['src/api'],
};

/** The `no-restricted-imports` options for files in `dir`: every SDK not at home there. */
function sdkRestrictions(dir) {
  const patterns = Object.entries(SDK_HOMES)
    .filter(([, homes]) => !homes.includes(dir))
    .map(([name, homes]) => ({
      group: [name, `${name.replace('/*', '')}/**`],
      message: `${name} has one home: ${homes.join(', ')}. Use that module's index.ts instead.`,
    }));
  return ['error', { patterns }];
}

/** The same for `await import('sdk')`, which `no-restricted-imports` does not see. */
function sdkDynamicRestrictions(dir) {
  const selectors = Object.entries(SDK_HOMES)
    .filter(([, homes]) => !homes.includes(dir))
    .map(([name, homes]) => {
      // esquery regexes end at the first `/`, so path separators are written `[/]`.
      const prefix = name.replace('/*', '').replaceAll('/', '[/]').replaceAll('.', '[.]');
      const tail = name.endsWith('/*') ? '[/]' : '([/]|$)';
      return {
        selector: `ImportExpression[source.value=/^${prefix}${tail}/]`,
        message: `${name} has one home: ${homes.join(', ')}. Use that module's index.ts instead.`,
      };
    });
  return ['error', ...selectors];
}

const SDK_GOVERNED = [...EDGES, ...MIDDLE, ...DOMAIN, 'src/config', 'src/shared'];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'lake/**', 'test/fixtures/lint/**'] },
  {
    files: ['**/*.ts', '**/*.js'],
    extends: [tseslint.configs.base],
    plugins: { 'import-x': importX },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    settings: {
      // Files import-x parses to follow imports (no-cycle): without `.ts` it sees none.
      'import-x/extensions': ['.ts', '.js'],
      // `.js` specifiers name the `.ts` sources (NodeNext + verbatimModuleSyntax).
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones }],
      // An import the resolver cannot follow would slip past the layer rules: refuse it.
      'import-x/no-unresolved': ['error', { ignore: ['^node:'] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-debugger': 'error',
      'no-fallthrough': 'error',
      'no-self-compare': 'error',
      'no-unsafe-finally': 'error',
      'no-cond-assign': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
    },
  },
  ...SDK_GOVERNED.map((dir) => ({
    files: [`${dir}/**/*.ts`],
    rules: {
      'no-restricted-imports': sdkRestrictions(dir),
      'no-restricted-syntax': sdkDynamicRestrictions(dir),
    },
  })),
);
