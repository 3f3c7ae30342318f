import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { runDuplicatesWarning } from '../../src/main/pipeline/duplicatesWarning.ts';
import { type LoopSettings, startLoop } from '../../src/main/pipeline/loop.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { openProject } from '../../src/main/store/project.ts';
import { getRun, metricsOf } from '../../src/main/store/runs.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { QUICK_LOOP, tinyLoopModelsForThisFile } from '../helpers/tinyLoopModels.ts';

// Seeds across runs, on real runs of the embedded generator (tiny models): a run without a seed
// gets one no earlier run used, so it makes new images; a repeated seed says why nothing was added.
const models = tinyLoopModelsForThisFile();
const quick: LoopSettings = QUICK_LOOP;
const seedOf = (dir: string, runId: number) => {
  const project = openProject(dir);
  const seed = (JSON.parse(getRun(project.db, runId)!.params) as { seed: number }).seed;
  project.close();
  return seed;
};

describe('seeds across runs', () => {
  it('a second run without a seed gets a fresh one, stored in its params, and makes new images', async () => {
    const dir = join(tempDir(), 'demo');
    const project = await createDemoProject(dir);
    const warnings: string[] = [];
    const first = await startLoop(project, models, quick, { onWarning: (w) => warnings.push(w) });
    const second = await startLoop(project, models, quick, { onWarning: (w) => warnings.push(w) });
    project.close();
    expect([seedOf(dir, first), seedOf(dir, second)]).toEqual([0, 1]);
    const reopened = openProject(dir);
    expect(listInstances(reopened.db).filter((i) => i.runId === second)).toHaveLength(20);
    expect(metricsOf(reopened.db, second).find((m) => m.name === 'generated')?.value).toBe(20);
    expect(warnings).toEqual([]);
    expect(runDuplicatesWarning(reopened.db, second)).toBeUndefined();
    reopened.close();
  });

  it('a repeated --seed says that every image was already in the project, naming the run, as it goes and at the end', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    const first = await startLoop(project, models, { ...quick, seed: 7 });
    const warnings: string[] = [];
    const again = await startLoop(project, models, { ...quick, seed: 7 }, { onWarning: (w) => warnings.push(w) });
    expect(listInstances(project.db).filter((i) => i.runId === again)).toHaveLength(0);
    const expected = `all 20 generated images were already in the project (same seeds and settings as run ${first}); nothing new was added. Pass a different --seed`;
    expect(warnings).toEqual([expect.stringContaining(`Round 1: ${expected}`)]);
    expect(runDuplicatesWarning(project.db, again)).toContain(`A${expected.slice(1)}`);
    project.close();
  });

  it('the CLI: `winnow run` twice without --seed adds new images; with a used --seed it prints why nothing was added', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const env = { ...process.env, WINNOW_RESOURCES: models.resources, WINNOW_HOME: join(tempDir(), 'home') };
    const bin = resolve(import.meta.dirname, '../../bin/winnow.js');
    const run = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        [bin, 'run', '--project', dir, '--rounds', '1', '--per-round', '20', '--steps', '2', ...extra],
        { env, encoding: 'utf8' },
      );
    for (const result of [run(), run()]) {
      expect(result.status).toBe(0);
      expect(result.stdout + result.stderr).not.toMatch(/warning/);
    }
    expect([seedOf(dir, 1), seedOf(dir, 2)]).toEqual([0, 1]);
    const repeated = run('--seed', '1');
    expect(repeated.status).toBe(0);
    expect(repeated.stdout).toContain(
      'warning: All 20 generated images were already in the project (same seeds and settings as run 2); nothing new was added. Pass a different --seed',
    );
    expect(repeated.stderr).toContain('warning: Round 1: all 20 generated images were already in the project');
    const project = openProject(dir);
    expect(listInstances(project.db)).toHaveLength(40);
    project.close();
  });
});
