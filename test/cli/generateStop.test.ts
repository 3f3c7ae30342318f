import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

describe('Ctrl-C in winnow generate', () => {
  it('stops, keeps what was made, and says the --seed that finishes it; that command makes only the rest', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const env = {
      ...process.env,
      WINNOW_RESOURCES: writeTinyResources(tempDir()),
      WINNOW_HOME: join(tempDir(), 'home'),
    };
    // No --seed: the command chooses one, and must say it to be finished.
    const args = [
      BIN,
      'generate',
      '--project',
      dir,
      '--class',
      'shirt',
      '--count',
      '4000',
      '--batch',
      '8',
      '--steps',
      '2',
    ];
    const child = spawn(process.execPath, args, { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const db = new Database(join(dir, 'winnow.db'), { readonly: true, fileMustExist: true });
    const generated = () =>
      (db.prepare("SELECT count(*) AS n FROM instances WHERE source = 'generated'").get() as { n: number }).n;
    await new Promise<void>((done, fail) => {
      const poll = setInterval(() => {
        if (generated() > 0) {
          clearInterval(poll);
          child.kill('SIGINT');
          done();
        }
      }, 20);
      child.on('exit', () => fail(new Error(`generate ended before it could be stopped: ${stderr}`)));
    });
    const code = await new Promise((done) => child.on('exit', done));
    expect(code).toBe(1);
    expect(stderr).not.toContain('bug in Winnow');
    const seed =
      /Stopped; the images made so far are kept\. To make the rest, run the same command with --seed (\d+)/.exec(
        stderr,
      )?.[1];
    expect(seed).toBeDefined();
    const kept = generated();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(4000);

    const finished = spawnSync(process.execPath, [...args, '--seed', seed!], { env, encoding: 'utf8' });
    expect(finished.status, finished.stderr).toBe(0);
    expect(generated()).toBe(4000);
    expect(finished.stdout).toContain(`Generated ${4000 - kept} instances of shirt`);
    db.close();
  }, 120_000);
});
