/**
 * The runtime's release discipline: last opened, first closed; every step runs even when
 * one throws; errors are reported (one as is, several as an AggregateError); close is
 * idempotent; nothing can be used or registered after close.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createReleasers, createRuntime } from '../../src/runtime/index.js';
import { isCorrenteError } from '../../src/shared/errors.js';
import { noopLogger } from '../../src/shared/logger.js';

const config = loadConfig({ env: {} });

describe('createReleasers', () => {
  it('releases in reverse order of adding', async () => {
    const order: string[] = [];
    const r = createReleasers();
    for (const name of ['pool', 'store', 'redis', 'queues']) r.add(name, () => void order.push(name));
    await r.releaseAll();
    expect(order).toEqual(['queues', 'redis', 'store', 'pool']);
  });

  it('runs every step when some throw, and rethrows the one error as is', async () => {
    const order: string[] = [];
    const boom = new Error('store close failed');
    const seen: string[] = [];
    const r = createReleasers((f) => seen.push(`${f.name}: ${f.error.message}`));
    r.add('pool', async () => void order.push('pool'));
    r.add('store', async () => {
      order.push('store');
      throw boom;
    });
    r.add('queues', () => void order.push('queues'));
    await expect(r.releaseAll()).rejects.toBe(boom);
    expect(order).toEqual(['queues', 'store', 'pool']);
    expect(seen).toEqual(['store: store close failed']);
  });

  it('collects several failures into an AggregateError naming each, in release order', async () => {
    const r = createReleasers();
    let poolClosed = false;
    r.add('pool', () => {
      poolClosed = true;
    });
    r.add('store', () => {
      throw new Error('disk gone');
    });
    r.add('redis', () => Promise.reject('socket reset'));
    const err = await r.releaseAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateError);
    const agg = err as AggregateError;
    expect(agg.errors.map((e: Error) => e.message)).toEqual(['socket reset', 'disk gone']);
    expect(agg.message).toBe('2 resources failed to close: redis: socket reset; store: disk gone');
    expect(poolClosed).toBe(true);
  });

  it('is idempotent: a second releaseAll returns the same promise and runs nothing again', async () => {
    let calls = 0;
    const r = createReleasers();
    r.add('pool', () => void calls++);
    const first = r.releaseAll();
    expect(r.releaseAll()).toBe(first);
    await first;
    await r.releaseAll();
    expect(calls).toBe(1);
    expect(r.released).toBe(true);
  });

  it('refuses a step added after release started', async () => {
    const r = createReleasers();
    await r.releaseAll();
    expect(() => r.add('late', () => {})).toThrow(/Cannot register late: its owner is already closed/);
  });
});

describe('createRuntime: register, lazy opening and close', () => {
  it('opens a resource on first use only, once for concurrent callers, and closes in reverse order of opening', async () => {
    const runtime = createRuntime(config, noopLogger);
    const events: string[] = [];
    const resource = (name: string) =>
      runtime.register(
        name,
        async () => {
          events.push(`open ${name}`);
          await new Promise((r) => setTimeout(r, 5));
          return { name };
        },
        (v) => void events.push(`close ${v.name}`),
      );
    const a = resource('a');
    const b = resource('b');
    const c = resource('c');
    expect(events).toEqual([]);
    // Opened in the order used, not the order registered; c is never used.
    const [b1, b2] = await Promise.all([b(), b()]);
    expect(b1).toBe(b2);
    await a();
    expect(await b()).toBe(b1);
    expect(events).toEqual(['open b', 'open a']);
    await runtime.close();
    expect(events).toEqual(['open b', 'open a', 'close a', 'close b']);
    void c;
  });

  it('retries an open that failed, and does not close what never opened', async () => {
    const runtime = createRuntime(config, noopLogger);
    let attempts = 0;
    const closed: number[] = [];
    const flaky = runtime.register(
      'flaky',
      () => {
        attempts++;
        if (attempts === 1) throw new Error('refused');
        return attempts;
      },
      (v) => void closed.push(v),
    );
    await expect(flaky()).rejects.toThrow('refused');
    expect(await flaky()).toBe(2);
    await runtime.close();
    expect(closed).toEqual([2]);
  });

  it('closes every resource even when one close throws, and reports the failure', async () => {
    const runtime = createRuntime(config, noopLogger);
    const closed: string[] = [];
    await runtime.register('first', () => 1, () => void closed.push('first'))();
    await runtime.register('broken', () => 2, () => {
      throw new Error('cannot close broken');
    })();
    await runtime.register('last', () => 3, () => void closed.push('last'))();
    await expect(runtime.close()).rejects.toThrow('cannot close broken');
    expect(closed).toEqual(['last', 'first']);
  });

  it('close is idempotent and waits for an open in flight, which it then closes', async () => {
    const runtime = createRuntime(config, noopLogger);
    const events: string[] = [];
    let finishOpen!: () => void;
    const slow = runtime.register(
      'slow',
      () => new Promise<string>((resolve) => (finishOpen = () => resolve('slow'))),
      () => void events.push('close slow'),
    );
    const opening = slow();
    const closing = runtime.close();
    expect(runtime.close()).toBe(closing);
    expect(runtime.closed).toBe(true);
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([]);
    finishOpen();
    await closing;
    expect(await opening).toBe('slow');
    expect(events).toEqual(['close slow']);
  });

  it('refuses use after close with a clear error, for built-in and registered resources', async () => {
    const runtime = createRuntime(config, noopLogger);
    const thing = runtime.register('thing', () => 1, () => {});
    await thing();
    await runtime.close();
    for (const get of [thing, () => runtime.pool(), () => runtime.store()]) {
      const err = await get().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCorrenteError(err) && err.code).toBe('INTERNAL');
      expect((err as Error).message).toMatch(/^Cannot use (thing|postgres pool|object store): the runtime is already closed$/);
    }
    expect(() => runtime.defer('late', () => {})).toThrow(/already closed/);
  });

  it('runs deferred steps before closing what was opened earlier', async () => {
    const runtime = createRuntime(config, noopLogger);
    const events: string[] = [];
    await runtime.register('connection', () => 'c', () => void events.push('close connection'))();
    runtime.defer('workers', () => void events.push('close workers'));
    await runtime.close();
    expect(events).toEqual(['close workers', 'close connection']);
  });
});
