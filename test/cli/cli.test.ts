import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Runs the real CLI in a child Node process, with its own user state directory. */
function winnow(args: string[], env: Record<string, string>, cwd?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: cwd ?? tempDir(),
    env: { ...process.env, WINNOW_PROJECT: '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('winnow CLI', () => {
  it('init, import real and status work as the README shows, on the current project', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 3, coat: 2 });

    const init = winnow(['init', join(work, 'p')], env);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/Created project .*p \(now the current project\)/);

    const imported = winnow(['import', 'real', join(work, 'real'), '--split', 'val'], env);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/Imported 5 real images into the val split/);

    const status = winnow(['status', '--json'], env);
    expect(status.code).toBe(0);
    const summary = JSON.parse(status.stdout);
    expect(summary.classes.map((c: { name: string; real: { val: number } }) => [c.name, c.real.val])).toEqual([
      ['coat', 2],
      ['shirt', 3],
    ]);
    expect(winnow(['status'], env).stdout).toMatch(/shirt\s+0\s+3\s+0/);
  });

  it('exits 3 and lists what it skipped when some files are bad', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 2 });
    writeFileSync(join(work, 'real', 'shirt', 'broken.png'), 'garbage');
    winnow(['init', join(work, 'p')], env);
    const result = winnow(['import', 'real', join(work, 'real')], env);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/Imported 2 real images/);
    expect(result.stderr).toMatch(/Skipped 1 entry:\n\s+.*broken.png is not a readable image/);
  });

  it('exits 1 with the error and the fix for a directory that is not a project', () => {
    const work = tempDir();
    const result = winnow(['status', '--project', work], { WINNOW_HOME: join(work, 'home') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: .* is not a Winnow project/);
    expect(result.stderr).toMatch(/fix: Create one with `winnow init <dir>`/);
  });

  it('says how to start when there is no current project, and exits 2 on bad usage', () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    expect(winnow(['status'], env).stderr).toMatch(/no current project[\s\S]*winnow init <dir>/);
    const usage = winnow(['import', 'real', work, '--split', 'holdout'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Allowed choices are train, val, test/);
  });

  it('exports accepted instances into a folder named on the command line', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'real'), { shirt: 1 });
    await makeImageFolder(join(work, 'synthetic'), { shirt: 3 }, 10);
    writeFileSync(join(work, 'synthetic', 'metadata.jsonl'), '{"file_name":"shirt/shirt-0.png","status":"accepted"}\n');
    winnow(['init', join(work, 'p')], env);
    winnow(['import', 'real', join(work, 'real')], env);
    expect(winnow(['import', 'synthetic', join(work, 'synthetic')], env).code).toBe(0);
    const result = winnow(['export', join(work, 'out')], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Exported 1 accepted instances to .*out\n\s+shirt: 1/);
  });
});
