/**
 * The dashboard in headless Chromium (Debian's, driven by playwright-core): the page loads
 * with no console errors, lists tables, draws the demand-vs-forecast chart, and redraws it
 * for another item. A screenshot is kept in test/artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createApiServer, type ApiServer } from '../../src/api/index.js';
import { loadConfig } from '../../src/config/index.js';
import { planTransform, runTransforms } from '../../src/pipeline/index.js';
import { noopLogger } from '../../src/shared/logger.js';
import { shippedTransformsDir } from '../../src/transform/index.js';
import { itWithTool } from '../helpers/known-limits.js';
import { createTransformLake, sampleDatabase, type TransformLake } from '../helpers/transform-lake.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

let t: TransformLake;
let server: ApiServer;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  const url = await sampleDatabase('corrente_api_test', 3000);
  t = await createTransformLake(url);
  await runTransforms(t.deps, planTransform(shippedTransformsDir()!), { runId: 'transform-20261129T020000Z-dash' });
  const config = loadConfig({ env: {}, file: undefined, overrides: { api: { port: 0 } } }).api;
  server = await createApiServer({
    config,
    store: t.lake.store,
    buckets: t.deps.buckets,
    logger: noopLogger,
    transformGraph: async () => 'flowchart LR\n  a --> b',
  });
  base = (await server.listen()).url;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

describe('dashboard', () => {
  itWithTool(
    CHROMIUM,
    'loads without console errors, lists tables and redraws the chart for another item',
    async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(base);
      await page.waitForSelector('#tables tbody tr');
      expect(await page.locator('#tables tbody').innerText()).toContain('gold.demand_vs_forecast');
      // (Page-side code as strings: the test is compiled without the DOM library.)
      await page.waitForFunction(`document.querySelector('#chart').dataset.series !== ''`);
      const first = await page.locator('#chart').getAttribute('data-series');
      expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);
      expect(Number(await page.locator('#chart').getAttribute('data-points'))).toBeGreaterThan(0);
      const items = await page.locator('#item option').allTextContents();
      expect(items.length).toBeGreaterThan(1);
      await page.selectOption('#item', items[1]!);
      await page.waitForFunction(`document.querySelector('#chart').dataset.series !== ${JSON.stringify(first)}`);
      expect(await page.locator('#chart').getAttribute('data-series')).toMatch(new RegExp(`^${items[1]}-`));
      expect(await page.locator('#dag').innerText()).toContain('flowchart LR');
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
      expect(problems, problems.join("\n")).toEqual([]);
    },
    { args: ['--version'], timeout: 120_000 },
  );
});
