import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { resumeLoop } from '../../src/main/pipeline/loop.ts';
import { Jobs } from '../../src/main/service/jobs.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { leaseOf } from '../../src/main/store/leases.ts';
import { openProject, type Project } from '../../src/main/store/project.ts';
import { getRun, listRounds } from '../../src/main/store/runs.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { tinyLoopModelsForThisFile } from '../helpers/tinyLoopModels.ts';

// One worker per run, with real processes: a `winnow run` child holds the run; a second worker
// (another CLI, this process's loop, the service's Resume) is refused with the holder named; once
// the holder is SIGKILLed the run resumes at once and finishes with no duplicate rows.
let env: NodeJS.ProcessEnv;
const models = tinyLoopModelsForThisFile();
const bin = resolve(import.meta.dirname, '../../bin/winnow.js');

beforeAll(() => {
  env = { ...process.env, WINNOW_RESOURCES: models.resources, WINNOW_HOME: join(tempDir(), 'home') };
});

/** How many (instance, round, kind) scores were written more than once: two workers on one run. */
function repeatedScores(project: Project): number {
  return (
    project.db
      .prepare(
        'SELECT count(*) AS n FROM (SELECT instance_id, round_index, kind, count(*) AS c FROM scores GROUP BY 1, 2, 3 HAVING c > 1)',
      )
      .get() as { n: number }
  ).n;
}

/** Resolves once `sql` (a count) is positive; fails if the child exits first. */
function waitFor(dir: string, sql: string, child: ChildProcess): Promise<void> {
  const db = new Database(join(dir, 'winnow.db'), { readonly: true, fileMustExist: true });
  return new Promise<void>((done, fail) => {
    const poll = setInterval(() => {
      let n: number;
      try {
        n = (db.prepare(sql).get() as { n: number }).n;
      } catch {
        return; // the schema is not there yet
      }
      if (n > 0) finish(done);
    }, 20);
    const finish = (then: () => void) => {
      clearInterval(poll);
      child.off('exit', early);
      db.close();
      then();
    };
    const early = () => finish(() => fail(new Error('the run finished before the test could use it')));
    child.on('exit', early);
  });
}

const exited = (child: ChildProcess) =>
  new Promise<void>((done) =>
    child.exitCode !== null || child.signalCode !== null ? done() : child.on('exit', () => done()),
  );

describe('one worker per run', () => {
  it('refuses a second worker while the first lives, naming it; after a SIGKILL the run resumes with nothing duplicated', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    // Long enough that it is still going while the others try (each CLI start loads its models).
    const args = ['run', '--project', dir, '--rounds', '8', '--per-round', '60', '--steps', '3', '--seed', '4'];
    const first = spawn(process.execPath, [bin, ...args], { env, stdio: 'ignore' });
    try {
      // The first worker is generating round 0: some of its images are committed.
      await waitFor(dir, 'SELECT count(*) AS n FROM instances WHERE round_index = 0', first);

      // A second CLI process is refused, with the holder named and the fix.
      const second = spawnSync(process.execPath, [bin, 'run', '--resume', '--project', dir], {
        env,
        encoding: 'utf8',
      });
      expect(second.status).not.toBe(0);
      expect(second.stderr).toContain(`Run 1 is being worked by process ${first.pid} on ${hostname()} (since `);
      expect(second.stderr).toMatch(/fix: Wait for that process to finish, or stop it/);

      // So is a loop in this process, and the service's Resume (before it starts anything).
      const project = openProject(dir);
      await expect(resumeLoop(project, models)).rejects.toThrow(`is being worked by process ${first.pid}`);
      expect(() => new Jobs(project, async () => models).start('resume')).toThrow(
        `Run 1 is being worked by process ${first.pid}`,
      );
      // The refusals changed nothing: the run is still the first worker's.
      expect(getRun(project.db, 1)?.status).toBe('running');
      expect(leaseOf(project.db, 1)?.pid).toBe(first.pid);
      project.close();
    } finally {
      first.kill('SIGKILL');
      await exited(first);
    }

    // Its holder killed mid-run, the run resumes at once (same host, dead pid) and finishes.
    const resumed = spawnSync(process.execPath, [bin, 'run', '--resume', '--project', dir], { env, encoding: 'utf8' });
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.status).toBe(0);
    const project = openProject(dir);
    expect(getRun(project.db, 1)?.status).toBe('done');
    expect(leaseOf(project.db, 1)).toBeUndefined();
    expect(listRounds(project.db, 1).map((r) => r.stage)).toEqual(new Array(8).fill('done'));
    expect(listInstances(project.db)).toHaveLength(480);
    expect(repeatedScores(project)).toBe(0);
    project.close();
  });

  it('two resumes started at once: exactly one works the run, the other is refused', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    // A run killed in round 0 to resume.
    const args = ['run', '--project', dir, '--rounds', '3', '--per-round', '60', '--steps', '3', '--seed', '2'];
    const first = spawn(process.execPath, [bin, ...args], { env, stdio: 'ignore' });
    await waitFor(dir, 'SELECT count(*) AS n FROM instances', first);
    first.kill('SIGKILL');
    await exited(first);

    const resume = () =>
      new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(process.execPath, [bin, 'run', '--resume', '--project', dir], { env });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => done({ code, stderr }));
      });
    const results = await Promise.all([resume(), resume()]);
    const refused = results.filter((r) => /is being worked by process \d+/.test(r.stderr));
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const project = openProject(dir);
    expect(getRun(project.db, 1)?.status).toBe('done');
    expect(listInstances(project.db)).toHaveLength(180);
    expect(repeatedScores(project)).toBe(0);
    project.close();
  });
});
