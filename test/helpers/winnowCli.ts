import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { tempDir } from './fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Runs the real `winnow` command in its own process (no project from the environment unless `env` gives one). */
export function winnowCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: tempDir(),
    env: { ...process.env, WINNOW_PROJECT: '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
