import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    // Native modules (better-sqlite3, sharp, onnxruntime) are safest in child processes.
    pool: 'forks',
    testTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test/output/vitest.json' }]],
  },
});
