import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    // Native modules (better-sqlite3, sharp, onnxruntime) are safest in child processes.
    pool: 'forks',
    testTimeout: 60_000,
    // The browser suites' setup runs a loop round and starts a server: real work, slower when two files run at once.
    hookTimeout: 120_000,
    // Tests never touch the user's own Winnow state (current and recent projects).
    env: { WINNOW_HOME: join(tmpdir(), `winnow-test-home-${process.pid}`) },
    reporters: ['default', ['json', { outputFile: 'test/output/vitest.json' }]],
  },
});
