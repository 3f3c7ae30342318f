import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { openProject } from '../../src/main/store/project.ts';
import { metricsOf } from '../../src/main/store/runs.ts';
import { TEST_SPLIT_NOTE } from '../../src/shared/runSettings.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

function winnow(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, WINNOW_PROJECT: '', ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('winnow run goes through the same job as the UI’s Start', () => {
  it('runs a round and prints its table; --resume then has nothing to go on with', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    await makeImageFolder(join(work, 'train'), { shirt: 6, coat: 6 });
    await makeImageFolder(join(work, 'val'), { shirt: 4, coat: 4 }, 20);
    await makeImageFolder(join(work, 'test'), { shirt: 3, coat: 3 }, 40);
    winnow(['init', join(work, 'p')], env);
    winnow(['import', 'real', join(work, 'train')], env);
    winnow(['import', 'real', join(work, 'val'), '--split', 'val'], env);
    winnow(['import', 'real', join(work, 'test'), '--split', 'test'], env);

    const run = winnow(['run', '--rounds', '1', '--per-round', '8'], env);
    expect(run.stderr).toMatch(/fmnist-[\w-]+@[0-9a-f]+ on \w+/);
    expect(run.stderr).toMatch(/^round 1\/1 generate$/m); // not a terminal: one line per stage
    expect(run.stdout).toMatch(/Run 1 done\. Seconds per stage:\nround\s+generated\s+accepted\s+val acc\s+test acc/);
    // Each row's test column is the round's recorded test accuracy, and the table says what it is.
    const project = openProject(join(work, 'p'));
    const tested = metricsOf(project.db, 1).filter((m) => m.name === 'test_accuracy');
    project.close();
    expect(tested.map((m) => m.roundIndex)).toEqual([-1, 0]);
    const percent = (round: number) => `${(100 * tested.find((m) => m.roundIndex === round)!.value).toFixed(1)}%`;
    expect(run.stdout).toMatch(new RegExp(`^start\\s+-\\s+-\\s+[\\d.]+%\\s+${percent(-1)}\\s`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^1\\s+8\\s+\\d+\\s+[\\d.]+%\\s+${percent(0)}\\s`, 'm'));
    expect(run.stdout).toContain(`test acc: ${TEST_SPLIT_NOTE}.`);
    expect(run.code).toBe(0);

    const resume = winnow(['run', '--resume'], env);
    expect(resume.stderr).toMatch(/error: There is no unfinished run to resume\.\n\s+fix: Start a new run/);
    expect(resume.code).toBe(1);
  });
});
