import { defineConfig } from 'vitest/config';

// Two projects: everything that runs in Node against in-process servers, and the end-to-end
// suite, which first builds the Worker with `wrangler deploy --dry-run` (tests/e2e/global-setup.ts)
// and runs that bundle in workerd. `vitest run --project unit` skips the build.
export default defineConfig({
  test: {
    // One module graph per worker instead of one per file: loading the app and its servers again
    // for each of some seventy files was most of a run on a two-core machine. Every file starts
    // the servers it uses and leaves nothing behind, and spies are restored after each test.
    isolate: false,
    restoreMocks: true,
    // Two files at a time even on two cores: most of a file's time is spent waiting on the local
    // servers it talks to.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/e2e/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
