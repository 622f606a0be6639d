/**
 * The built `corrente` bin is one bundle (scripts/bundle-cli.js) whose commands load
 * lazily: starting any command must not read the HTTP server, the metrics registry or the
 * AWS SDK, nor walk node_modules. These tests read the bundle's static import graph, the
 * modules Node loads before the first line runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, createCliSandbox, runCli } from '../helpers/cli.js';

/** The bundle's one-line banner, which gives bundled CommonJS its `require()`. */
const BANNER = /^import\s*\{\s*createRequire\b[^\n]*\n/;

/**
 * The specifiers of a module's leading static imports (esbuild hoists them all to the top,
 * after the `#!` line and the banner).
 */
function staticImports(source: string): string[] {
  let body = source.replace(/^#!.*\n/, '');
  const out: string[] = [];
  const banner = BANNER.exec(body);
  if (banner) {
    out.push('node:module');
    body = body.slice(banner[0].length);
  }
  const re = /\s*import\s*(?:[\w$*{}\s,]+?\s*from\s*)?"([^"]+)";?/y;
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(m[1]!);
  return out;
}

/** Every module reached from `entry` through static imports: relative files and bare specifiers. */
function staticGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('./') || spec.startsWith('../')) visit(join(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

describe('the corrente bin bundle', () => {
  it('starts on its own chunks and Node built-ins only: every package is bundled or loaded lazily', () => {
    const graph = staticGraph(CLI_PATH);
    expect(graph.files.length).toBeGreaterThan(1);
    expect(graph.packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect(graph.packages).toContain('node:module'); // the banner
  });

  it('reads its leading imports the way esbuild writes them', () => {
    expect(staticImports(`#!/usr/bin/env node\nimport{a as b}from"./c.js";import"./d.js";import*as e from"f";var x=1;import("g")`)).toEqual(['./c.js', './d.js', 'f']);
  });

  it('keeps serve (fastify) and S3 (the AWS SDK) out of the bundle, loaded by import() when used', () => {
    const chunks = join(dirname(CLI_PATH), 'chunks');
    const js = readdirSync(chunks).filter((f) => f.endsWith('.js'));
    const all = [readFileSync(CLI_PATH, 'utf8'), ...js.map((f) => readFileSync(join(chunks, f), 'utf8'))].join('\n');
    expect(all).toMatch(/from"fastify"/);
    expect(all).toMatch(/import\("@aws-sdk\/client-s3"\)/);
  });

  it("reaches Postgres without loading Node's fetch: pg's Cloudflare check is answered at build time", async () => {
    // Preloaded: reports the first touch of a global that loads Node's fetch (undici).
    const watch = `for (const name of ['Response', 'fetch']) {
      const d = Object.getOwnPropertyDescriptor(globalThis, name);
      Object.defineProperty(globalThis, name, { configurable: true, enumerable: d.enumerable,
        get() { process.stderr.write('touched ' + name + '\\n'); return d.get ? d.get.call(this) : d.value; },
        set(v) { Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true }); } });
    }`;
    const s = await createCliSandbox({ NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(watch)}` });
    try {
      const r = await runCli(['migrate', '-t', 'core.no_such_table_here', '--inline', '--wait'], s.env, { cwd: s.cwd });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('core.no_such_table_here'); // Postgres was asked
      expect(r.stderr).not.toMatch(/^touched /m);
    } finally {
      await s.cleanup();
    }
  });
});

