import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Runs the CLI with its output read by a reader that leaves at once (as `| head -0` does). */
async function withClosedOutput(args: string[], closed: 'stdout' | 'stderr') {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, WINNOW_HOME: join(tempDir(), 'home'), WINNOW_PROJECT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child[closed].destroy();
  const other = closed === 'stdout' ? child.stderr : child.stdout;
  let text = '';
  other.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  return { code, text };
}

describe('a reader that closes the pipe early', () => {
  // Commander writes help and usage errors with stream.write (console.log would swallow the error).
  it('on stdout: the command stops quietly, no EPIPE stack', async () => {
    expect(await withClosedOutput(['--help'], 'stdout')).toEqual({ code: 0, text: '' });
    const dir = join(tempDir(), 'p');
    initProject(dir).close();
    expect(await withClosedOutput(['status', '--project', dir], 'stdout')).toEqual({ code: 0, text: '' });
  });

  it('on stderr: an error that cannot be told stops quietly with its exit code', async () => {
    expect(await withClosedOutput(['no-such-command'], 'stderr')).toEqual({ code: 2, text: '' });
    expect(await withClosedOutput(['status', '--project', tempDir()], 'stderr')).toEqual({ code: 1, text: '' });
  });
});
