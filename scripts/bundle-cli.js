// Bundles the `corrente` command (cli/main.ts and what it imports) into dist/cli/main.js plus
// lazily loaded chunks, over the file tsc wrote there. Why: on Node 20 (no module compile
// cache) a `migrate` spent ~0.4 s resolving, reading and linking ~880 module files (630 of
// them CommonJS; zod's 95 ES modules). Bundled, a one-table `migrate --inline --wait`
// starts ~0.3 s sooner and peaks ~10 MB lower (bench/README.md, "CLI bundle"). tsc still
// type-checks and builds the rest of dist/ (the bench and the tests import those modules
// one by one).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * Left to Node's own loader: the native DuckDB binding; packages that read files beside
 * their own code (fastify's plugins and bull-board serve assets from their package folders);
 * and the AWS SDK and prom-client, which only S3 lakes and `serve` load, so bundling them
 * would only make the chunks bigger.
 */
const EXTERNAL = ['@duckdb/node-bindings*', 'fastify', '@fastify/*', '@bull-board/*', '@aws-sdk/*', 'prom-client'];

/**
 * pg picks its socket at load time, and its test for a Cloudflare Worker constructs a
 * `Response` when `navigator` is missing, as on Node 20 (Node 21+ defines it): that loads
 * Node's fetch implementation (undici), ~35 ms and ~12 MB of RSS, in every process that
 * talks to Postgres. The bundle is for Node, so the test is answered at build time. The
 * build fails if pg's code changes shape, rather than silently keep the cost.
 */
const pgSocketForNode = {
  name: 'pg-socket-for-node',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const test = 'if (isCloudflareRuntime()) {';
      if (!source.includes(test)) throw new Error(`${args.path}: no "${test}" to answer at build time; update scripts/bundle-cli.js for this pg version`);
      return { contents: source.replace(test, 'if (false) {'), loader: 'js' };
    });
  },
};

// Chunk names carry a content hash: an earlier build's would stay beside the new ones.
rmSync('dist/cli/chunks', { recursive: true, force: true });

const { metafile } = await build({
  entryPoints: { main: 'cli/main.ts' },
  outdir: 'dist/cli',
  // Each command's module stays behind its `await import()`: `migrate` never loads `serve`.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: EXTERNAL,
  // Bundled CommonJS packages (pg, ioredis) call require() for Node's built-ins.
  banner: { js: 'import { createRequire as createRequireOfBundle } from "node:module"; const require = createRequireOfBundle(import.meta.url);' },
  // Smaller sources to parse and keep; names stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  // Stack traces map back to the TypeScript under NODE_OPTIONS=--enable-source-maps.
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
  plugins: [pgSocketForNode],
});

/**
 * dist/cli/bundle-packages.json: the npm packages whose code each output file holds, keyed
 * by its path under dist/cli. What a command loads is then read off the chunks it loads
 * (test/helpers/import-trace.ts), as it was off node_modules before the bundle.
 */
const packages = {};
for (const [file, output] of Object.entries(metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const names = new Set();
  for (const input of Object.keys(output.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) names.add(m[1]);
  }
  packages[file.replace(/^dist\/cli\//, '')] = [...names].sort();
}
writeFileSync('dist/cli/bundle-packages.json', `${JSON.stringify(packages, null, 1)}\n`);
