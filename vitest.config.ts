import { defineConfig } from 'vitest/config';

// Integration suites share one Postgres and one Redis; files isolate themselves by
// unique schema / queue prefix / lake dir, so they may run in parallel, but the machine
// has 2 cores and the exports are CPU-heavy: keep file parallelism modest.
export default defineConfig({
  test: {
    env: { NODE_OPTIONS: '--openssl-legacy-provider' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          sequence: { groupOrder: 2 },
          include: ['test/faults/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
