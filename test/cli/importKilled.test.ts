import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stagedCount } from '../../src/main/store/importStaging.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { openDatabase } from '../../src/main/store/database.ts';
import { openProject } from '../../src/main/store/project.ts';
import { listRuns } from '../../src/main/store/runs.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

describe('an import killed mid-way', () => {
  it('leaves nothing visible; the next open drops its staged rows and importing again brings in all', async () => {
    const work = tempDir();
    const env = { ...process.env, WINNOW_HOME: join(work, 'home'), WINNOW_PROJECT: '' };
    const project = join(work, 'p');
    await makeImageFolder(join(work, 'real'), { bun: 2 }, 5000);
    await makeImageFolder(join(work, 'synthetic'), { bun: 300 }, 1);
    spawnSync(process.execPath, [BIN, 'init', project], { env });
    spawnSync(process.execPath, [BIN, '-p', project, 'import', 'real', join(work, 'real')], { env });

    const child = spawn(
      process.execPath,
      [BIN, '-p', project, 'import', 'synthetic', join(work, 'synthetic'), '--chunk-size', '5'],
      { env, stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    // Watch the staging from another connection, and kill the import once some chunks are staged.
    const watcher = openDatabase(join(project, 'winnow.db'), { create: false, readonly: true });
    let staged = 0;
    for (let tries = 0; tries < 3000 && staged < 20; tries++) {
      await new Promise((r) => setTimeout(r, 10));
      staged = stagedCount(watcher, 1);
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Staged, but not in the project: the review, exports and status read instances.
    expect(staged).toBeGreaterThanOrEqual(20);
    expect(stagedCount(watcher, 1)).toBeLessThan(300);
    expect(listInstances(watcher)).toEqual([]);
    watcher.close();

    const reopened = openProject(project);
    expect(stagedCount(reopened.db, 1)).toBe(0);
    expect(listInstances(reopened.db)).toEqual([]);
    expect(listRuns(reopened.db).filter((r) => r.kind === 'import')).toEqual([]);
    reopened.close();

    const again = spawnSync(
      process.execPath,
      [BIN, '-p', project, 'import', 'synthetic', join(work, 'synthetic'), '--chunk-size', '5'],
      { env, encoding: 'utf8' },
    );
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Imported 300 synthetic instances/);
  });
});
