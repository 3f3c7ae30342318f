import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native modules (better-sqlite3, sharp, onnxruntime) are safest in child processes.
    pool: 'forks',
    testTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test/output/vitest.json' }]],
  },
});
