/**
 * Skips that CI does not swallow. A test that cannot run here (a tool is missing, or the
 * test servers cannot show the behaviour) may be skipped on a developer's machine, but
 * under `CI=true` it is skipped only when README.md's "Known limits" section names it,
 * with its reason; otherwise it fails, so "checked in CI" stays true.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { it, type TestContext } from 'vitest';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** True when the test run is CI's (`CI=true` or `CI=1`, as `.ci/run` sets it). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

/** True when `tool` runs and exits 0 with `args`. */
export function hasTool(tool: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(tool, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

/**
 * The bullet lines of the "## Known limits" section of `readmeText` (each `- ` item with
 * its continuation lines joined), or `[]` when the section is missing.
 */
export function knownLimits(readmeText: string): string[] {
  const lines = readmeText.split('\n');
  const start = lines.findIndex((l) => /^##\s+Known limits\s*$/i.test(l));
  if (start < 0) return [];
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,2}\s/.test(line)) break;
    if (/^[-*]\s/.test(line)) items.push(line.slice(2).trim());
    else if (items.length > 0 && /^\s+\S/.test(line)) items[items.length - 1] += ` ${line.trim()}`;
  }
  return items;
}

/**
 * True when a Known limits item starts with `` `key` `` (in backticks) and gives a reason:
 * at least three more words. Items that only mention the key further in do not count.
 */
export function isKnownLimit(key: string, readmeText: string = readFileSync(README, 'utf8')): boolean {
  const named = `\`${key}\``;
  return knownLimits(readmeText).some(
    (item) => item.startsWith(named) && (item.slice(named.length).match(/[A-Za-z]{2,}/g) ?? []).length >= 3,
  );
}

/** True when a skip keyed `key` is allowed here: not CI, or README's Known limits names it. */
export function skipAllowed(key: string): boolean {
  return !isCi() || isKnownLimit(key);
}

/** Why a skip is refused under CI, in one line that says what to do. */
function refusal(key: string, what: string): string {
  return `${what}, and under CI=true a skip must be listed: make it available in .ci/run, or name \`${key}\` with its reason under "Known limits" in README.md`;
}

/** Registers `name` as a test that fails with `message` (a refused skip). */
function itFails(name: string, message: string): void {
  it(name, () => {
    throw new Error(message);
  });
}

/**
 * `it(name, fn)` when `tool` is installed. When it is missing: skipped on a developer's
 * machine (and in CI when README's Known limits names `` `tool` ``), else a failing test.
 */
export function itWithTool(
  tool: string,
  name: string,
  fn: () => unknown,
  options: { args?: readonly string[]; timeout?: number } = {},
): void {
  if (hasTool(tool, options.args)) it(name, fn, options.timeout);
  else if (skipAllowed(tool)) it.skip(`${name} (needs \`${tool}\`)`, fn);
  else itFails(name, refusal(tool, `\`${tool}\` is not installed`));
}

/**
 * A behaviour the test servers cannot show (e.g. s3rver does not check signatures): always
 * skipped, and under CI the skip fails unless README's Known limits names `` `key` ``.
 */
export function itKnownLimit(key: string, name: string): void {
  if (skipAllowed(key)) it.skip(`${name} (known limit \`${key}\`)`, () => undefined);
  else itFails(name, refusal(key, `"${name}" cannot be tested here`));
}

/**
 * `it(name, fn)`, unless `limited` (this backend or server cannot show the behaviour):
 * then {@link itKnownLimit} with `key`.
 */
export function itUnlessLimited(limited: boolean, key: string, name: string, fn: () => unknown): void {
  if (limited) itKnownLimit(key, name);
  else it(name, fn);
}

/**
 * For a condition found inside a running test (`what`: why it cannot go on): skips the
 * test via `ctx.skip()` when {@link skipAllowed}, else throws the CI refusal.
 */
export function skipOrFail(ctx: TestContext, key: string, what: string): never {
  if (!skipAllowed(key)) throw new Error(refusal(key, what));
  return ctx.skip(what);
}
