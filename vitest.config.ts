import { defineConfig } from 'vitest/config';

/**
 * The whole suite runs once per backend: project "native" with
 * ZKMETER_BACKEND=native (which fails loudly if the addon is missing) and project
 * "js" with ZKMETER_BACKEND=js. Setting ZKMETER_BACKEND yourself runs only that
 * project. Cross-backend comparisons (test/crosscheck*.test.ts) load both
 * backends explicitly, so they run in the native project only.
 *
 * Besides the console reporter, results go to .vitest-results.json (vitest's JSON
 * reporter), which .ci/run reads to print its "N passed, N failed" line.
 */
const requested = process.env.ZKMETER_BACKEND;
const names = requested === 'native' || requested === 'js' ? [requested] : ['native', 'js'];

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
    projects: names.map((name) => ({
      extends: true,
      test: {
        name,
        env: { ZKMETER_BACKEND: name },
        include: ['test/**/*.test.ts'],
        exclude: name === 'js' ? ['test/crosscheck*.test.ts', 'test/native*.test.ts'] : [],
        testTimeout: 120_000,
        hookTimeout: 120_000,
      },
    })),
  },
});
