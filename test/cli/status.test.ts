import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { initProject, openProject } from '../../src/main/store/project.ts';
import { createRun, finishRun } from '../../src/main/store/runs.ts';
import { summarize } from '../../src/main/store/summary.ts';
import { tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');
const src = (path: string) => pathToFileURL(resolve(import.meta.dirname, '../../src/main', path)).href;

/** A real process that starts a run of `kind` (taking its lease) and dies without finishing it. Returns its pid. */
function startRunAndDie(dir: string, kind: 'loop' | 'generate'): number {
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { openProject } from '${src('store/project.ts')}';
       import { createRun } from '${src('store/runs.ts')}';
       createRun(openProject(${JSON.stringify(dir)}).db, '${kind}', {});
       process.exit(0);`,
    ],
    { encoding: 'utf8' },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return child.pid;
}

function winnowStatus(dir: string, json: boolean) {
  const result = spawnSync(process.execPath, [BIN, 'status', '--project', dir, ...(json ? ['--json'] : [])], {
    env: { ...process.env, WINNOW_HOME: join(tempDir(), 'home') },
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('winnow status', () => {
  it('lists unfinished runs: a dead process shows as interrupted, with why, and the loop run to resume', () => {
    const dir = join(tempDir(), 'p');
    const project = initProject(dir);
    finishRun(project.db, createRun(project.db, 'loop', {}), 'done');
    const failed = createRun(project.db, 'generate', {});
    finishRun(project.db, failed, 'failed', 'the generator ran out of memory');
    project.close();
    const loopPid = startRunAndDie(dir, 'loop');
    const generatePid = startRunAndDie(dir, 'generate');

    const status = JSON.parse(winnowStatus(dir, true));
    expect(status.runs).toBe(4);
    expect(status.unfinishedRuns).toEqual([
      expect.objectContaining({
        id: 2,
        kind: 'generate',
        status: 'failed',
        reason: 'the generator ran out of memory',
        resumable: false,
      }),
      expect.objectContaining({
        id: 3,
        kind: 'loop',
        status: 'interrupted',
        reason: expect.stringContaining(`its process (${loopPid} on `),
        resumable: true,
      }),
      expect.objectContaining({
        id: 4,
        kind: 'generate',
        status: 'interrupted',
        reason: expect.stringContaining(`its process (${generatePid} on `),
        resumable: false,
      }),
    ]);
    expect(status.unfinishedRuns[0].startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    const text = winnowStatus(dir, false);
    expect(text).toContain('Unfinished runs:');
    expect(text).toMatch(/run 2 \(generate\) failed, started \S+: the generator ran out of memory\n/);
    expect(text).toMatch(
      new RegExp(
        `run 3 \\(loop\\) interrupted, started \\S+: its process \\(${loopPid} on .*\\. Resume it: winnow run --resume\\n`,
      ),
    );
    expect(text).toMatch(
      new RegExp(`run 4 \\(generate\\) interrupted, started \\S+: its process \\(${generatePid} on [^\\n]*Z\\n$`),
    );
  });

  it('shows a run whose process died as interrupted even when this open cannot mark it (read-only)', () => {
    const dir = join(tempDir(), 'p');
    initProject(dir).close();
    const pid = startRunAndDie(dir, 'loop');
    const project = openProject(dir, { readonly: true });
    try {
      expect(summarize(project.db).unfinishedRuns).toEqual([
        expect.objectContaining({
          id: 1,
          status: 'interrupted',
          reason: expect.stringContaining(`(${pid} on `),
          resumable: true,
        }),
      ]);
    } finally {
      project.close();
    }
  });
});
