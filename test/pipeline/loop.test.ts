import { WinnowError } from '../../src/main/errors.ts';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DDIM_SAMPLING } from '../../src/main/models/ddim.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { type LoopParams, resumeLoop, startLoop } from '../../src/main/pipeline/loop.ts';
import { scoreProject } from '../../src/main/pipeline/scoreSet.ts';
import { curate } from '../../src/main/store/curation.ts';
import { loadCheckpoint } from '../../src/main/store/features.ts';
import {
  effectiveStatus,
  getInstance,
  type Instance,
  instancesOfRun,
  listInstances,
} from '../../src/main/store/instances.ts';
import { featuresOf } from '../../src/main/pipeline/featureCache.ts';
import { allRealData, loadRealData } from '../../src/main/pipeline/realData.ts';
import { scoreAll, scoringReference } from '../../src/main/pipeline/scoring.ts';
import { initProject, openProject, type Project } from '../../src/main/store/project.ts';
import { getRun, listRounds, metricsOf, setRoundStage } from '../../src/main/store/runs.ts';
import { scoreHistory } from '../../src/main/store/scores.ts';
import type { ProgressEvent } from '../../src/shared/progress.ts';
import { HEAD_SCORE_KINDS } from '../../src/shared/scoreKinds.ts';
import { SCORING_DEFAULTS } from '../../src/main/learn/learnDefaults.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { accuracy } from '../../src/main/learn/softmaxHead.ts';
import { QUICK_LOOP, tinyLoopModelsForThisFile } from '../helpers/tinyLoopModels.ts';
import { importReal } from '../../src/main/pipeline/importReal.ts';

// The loop with real ONNX sessions of tiny random-weight models (the embedded models' interfaces)
// on the real demo project: fast, and exercising every stage.
const models = tinyLoopModelsForThisFile();
const quick: LoopParams = { ...QUICK_LOOP, rounds: 2, seed: 5 };

describe('the generative active-learning loop', () => {
  it('runs every stage of every round and persists instances, scores, decisions, metrics and checkpoints', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    const events: ProgressEvent[] = [];
    const runId = await startLoop(project, models, quick, { onProgress: (e) => events.push(e) });
    const { db } = project;
    expect(getRun(db, runId)?.status).toBe('done');
    expect(listRounds(db, runId).map((r) => r.stage)).toEqual(['done', 'done']);
    const instances = listInstances(db);
    expect(instances).toHaveLength(40);
    expect(new Set(instances.map((i) => i.seed)).size).toBe(40);
    expect(instances.every((i) => i.status !== 'pending' && i.runId === runId && i.contribution !== null)).toBe(true);
    // Online: round-0 instances were scored in both rounds, round-1 instances once; every kind each time.
    const first = instances.find((i) => i.roundIndex === 0)!;
    const history = scoreHistory(db, first.id);
    expect(history.filter((h) => h.kind === 'contribution').map((h) => h.roundIndex)).toEqual([0, 1]);
    expect(new Set(history.map((h) => h.kind))).toEqual(new Set(HEAD_SCORE_KINDS));
    expect(JSON.parse(first.perturbation ?? '{}')).toMatchObject({ kind: 'search', acquisition: 'margin' });
    // Provenance of what the loop made: the embedded generator's DDIM sampler as it ran, like `winnow generate`.
    for (const instance of instances) {
      expect(instance).toMatchObject({ generatorId: models.generator.id, epsilon: quick.epsilon, source: 'generated' });
      expect(JSON.parse(instance.genParams)).toEqual({
        guidanceScale: models.generator.defaults.guidanceScale,
        steps: quick.steps,
        ...DDIM_SAMPLING,
      });
    }
    const metrics = metricsOf(db, runId);
    for (const round of [-1, 0, 1])
      expect(metrics.some((m) => m.roundIndex === round && m.name === 'val_accuracy')).toBe(true);
    expect(metrics.find((m) => m.roundIndex === 0 && m.name === 'probes')?.value).toBeGreaterThan(0);
    expect(loadCheckpoint(db, runId, 1)?.head.length).toBe(10 * 17);
    // The demo's test split: each round's head (its checkpoint) measured on the 1,000 held-out images.
    const { test, val } = await loadRealData(project, models.encoder);
    expect(test.labels).toHaveLength(1000);
    for (const round of [-1, 0, 1]) {
      const head = { classes: 10, dim: models.encoder.dim, weights: loadCheckpoint(db, runId, round)!.head };
      const recorded = (name: string) => metrics.find((m) => m.roundIndex === round && m.name === name)?.value;
      expect(recorded('test_accuracy')).toBe(accuracy(head, test));
      expect(recorded('val_accuracy')).toBe(accuracy(head, val));
    }
    const stages = new Set(events.map((e) => e.stage));
    for (const stage of ['prepare', 'generate', 'embed', 'score', 'evaluate']) expect(stages).toContain(stage);
    expect(events.filter((e) => e.stage === 'generate').every((e) => e.round !== undefined && e.done <= e.total)).toBe(
      true,
    );
    project.close();
  });

  it('online scoring scores an accepted instance with heads that never trained on it (the other half of the accepted)', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    project.db.prepare("DELETE FROM real_samples WHERE split = 'test'").run(); // a project without a test split
    let acceptedBeforeRound2: Instance[] = [];
    const runId = await startLoop(project, models, quick, {
      onProgress: (e) => {
        if (e.stage === 'embed' && e.round === 1 && acceptedBeforeRound2.length === 0)
          acceptedBeforeRound2 = listInstances(project.db, { status: 'accepted' });
      },
    });
    const real = await loadRealData(project, models.encoder);
    const labelled = async (instances: readonly Instance[]) => ({
      features: await featuresOf(
        project,
        models.encoder,
        instances.map((i) => i.imageHash),
      ),
      labels: Int32Array.from(instances, (i) => real.indexOf.get(i.labelId)!),
    });
    // The halves alternate by place in the run.
    const half = new Map(instancesOfRun(project.db, runId).map((inst, k) => [inst.id, k % 2]));
    const checked = acceptedBeforeRound2.filter((i) => i.roundIndex === 0).slice(0, 4);
    expect(new Set(checked.map((i) => half.get(i.id))).size).toBe(2);
    for (const instance of checked) {
      const otherHalf = acceptedBeforeRound2.filter((i) => half.get(i.id) !== half.get(instance.id));
      const reference = await scoringReference(allRealData(real), real.classes.length, quick, {
        folds: quick.folds,
        lambda: quick.lambdaGrid[0],
        extra: await labelled(otherHalf),
      });
      const expected = (await scoreAll(reference, await labelled([instance]))).self_confidence[0]!;
      const stored = scoreHistory(project.db, instance.id).find(
        (h) => h.kind === 'self_confidence' && h.runId === runId && h.roundIndex === 1,
      )!.value;
      expect(stored).toBeCloseTo(expected, 4);
    }
    // Without a test split no test accuracy is recorded, rather than one of nothing.
    expect(metricsOf(project.db, runId).filter((m) => m.name.startsWith('test_'))).toEqual([]);
    project.close();
  });

  it('offline scoring scores each instance once, against the initial head', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    await startLoop(project, models, { ...quick, scoring: 'offline', acquisition: 'random' });
    for (const instance of listInstances(project.db)) {
      expect(scoreHistory(project.db, instance.id).filter((h) => h.kind === 'contribution')).toHaveLength(1);
    }
    project.close();
  });

  it('a curator override survives re-scoring', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    await startLoop(project, models, { ...quick, rounds: 1, rule: { kind: 'top-k', k: 1 } });
    const rejected = listInstances(project.db, { status: 'rejected' })
      .slice(0, 2)
      .map((i) => i.id);
    const accepted = listInstances(project.db, { status: 'accepted' })
      .slice(0, 1)
      .map((i) => i.id);
    curate(project.db, { instanceIds: rejected, action: 'accept' });
    curate(project.db, { instanceIds: accepted, action: 'reject' });
    await scoreProject(project, models.encoder, {
      by: 'contribution',
      rule: { kind: 'all' },
      settings: SCORING_DEFAULTS,
      head: { folds: 2, lambdaGrid: [1e-2] },
    });
    for (const id of rejected) expect(effectiveStatus(getInstance(project.db, id)!)).toBe('accepted');
    for (const id of accepted) expect(effectiveStatus(getInstance(project.db, id)!)).toBe('rejected');
    // The automatic status moved with the re-score; only the override kept the curator's word.
    expect(getInstance(project.db, accepted[0]!)?.status).toBe('accepted');
    project.close();
  });

  it('names the fix when the project has no real validation data', async () => {
    const work = tempDir();
    const project = initProject(join(work, 'p'));
    await makeImageFolder(join(work, 'real'), { shirt: 2, coat: 2 });
    await importReal(project, join(work, 'real'), 'train');
    await expect(startLoop(project, models, quick)).rejects.toThrow(/no real validation images[\s\S]*/);
    await expect(startLoop(project, models, quick).catch((e) => e.fix)).resolves.toMatch(
      /winnow import real <ImageFolder> --split val/,
    );
    project.close();
  });

  it('names the fix when the project has validation images but no training images', async () => {
    const work = tempDir();
    const project = initProject(join(work, 'p'));
    await makeImageFolder(join(work, 'real'), { shirt: 2, coat: 2 });
    await importReal(project, join(work, 'real'), 'val');
    // It stopped with "Invalid typed array length: Infinity" once the first head had no features.
    const error = await startLoop(project, models, quick).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WinnowError);
    expect((error as WinnowError).message).toMatch(/no real training images/);
    expect((error as WinnowError).fix).toMatch(/--split train/);
    project.close();
  });

  it('a round resumed with a class half made makes each image as an uninterrupted round does', async () => {
    // One image a batch (as Stable Diffusion commits): a pause can leave a class half made.
    const oneByOne = Object.assign(Object.create(models.generator) as typeof models.generator, {
      defaults: { ...models.generator.defaults, batchSize: 1 },
    });
    // Four candidates, two kept: images alternate between two searched conditionings.
    const settings = { ...quick, rounds: 1, perRound: 30, candidates: 4 };
    const made = (project: Project) =>
      new Map(listInstances(project.db).map((i) => [`${i.classId}/${i.seed}`, `${i.perturbation} ${i.imageHash}`]));
    const whole = await createDemoProject(join(tempDir(), 'whole'));
    await startLoop(whole, { ...models, generator: oneByOne }, settings);
    // Paused once the first image of the first class with several is made: that class is half made,
    // with an odd number of its images.
    const order = listInstances(whole.db).map((i) => i.classId);
    const first = order.findIndex((c, k) => c !== order[k - 1] && c === order[k + 1]);
    const paused = await createDemoProject(join(tempDir(), 'paused'));
    const stop = new AbortController();
    await expect(
      startLoop(paused, { ...models, generator: oneByOne }, settings, {
        signal: stop.signal,
        onProgress: (e) => {
          if (e.stage === 'generate' && e.done >= first + 1) stop.abort();
        },
      }),
    ).rejects.toThrow();
    const count = (project: Project, classId: number) =>
      listInstances(project.db).filter((i) => i.classId === classId).length;
    expect(count(paused, order[first]!)).toBe(1);
    expect(count(whole, order[first]!)).toBeGreaterThan(1);
    // The round's seconds so far (set to a known figure): the resumed part adds to them.
    const runId = listInstances(paused.db)[0]!.runId!;
    const { stage } = listRounds(paused.db, runId)[0]!;
    setRoundStage(paused.db, runId, 0, stage, { plan: 100, search: 200, generate: 300 });
    await resumeLoop(paused, { ...models, generator: oneByOne });
    expect(made(paused)).toEqual(made(whole));
    const timings = JSON.parse(listRounds(paused.db, runId)[0]!.timings) as Record<string, number>;
    expect([timings.plan! > 100, timings.search! > 200, timings.generate! > 300, timings.score! < 100]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    // The first part searched every class; the resumed part searched again each class it had images
    // left of, and its probes add to the first part's (each class's search makes as many).
    const probes = (project: Project) =>
      metricsOf(project.db, listInstances(project.db)[0]!.runId!).find(
        (m) => m.roundIndex === 0 && m.name === 'probes',
      )!.value;
    const classes = new Set(order).size;
    const left = classes - new Set(order.slice(0, first)).size;
    expect(left).toBeGreaterThan(0);
    expect(probes(paused)).toBe((probes(whole) * (classes + left)) / classes);
    whole.close();
    paused.close();
  });

  it('resumes after the process is killed mid-round: nothing lost, nothing duplicated', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const env = { ...process.env, WINNOW_RESOURCES: models.resources, WINNOW_HOME: join(tempDir(), 'home') };
    const bin = resolve(import.meta.dirname, '../../bin/winnow.js');
    const args = [bin, 'run', '--project', dir, '--rounds', '3', '--per-round', '60', '--steps', '3', '--seed', '9'];
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    // Kill it once round 1 has started generating: some of its images are stored, the round is not done.
    const db = new Database(join(dir, 'winnow.db'), { readonly: true, fileMustExist: true });
    await new Promise<void>((done, fail) => {
      const poll = setInterval(() => {
        const n = (db.prepare('SELECT count(*) AS n FROM instances WHERE round_index = 1').get() as { n: number }).n;
        if (n > 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
          done();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(poll);
        fail(new Error('the run finished before it could be killed'));
      });
    });
    db.close();
    const resumed = spawnSync(process.execPath, [bin, 'run', '--resume', '--project', dir], { env, encoding: 'utf8' });
    expect(resumed.stderr).not.toMatch(/error/);
    expect(resumed.status).toBe(0);
    const project = openProject(dir);
    const instances = listInstances(project.db);
    expect(instances).toHaveLength(180);
    expect(new Set(instances.map((i) => i.seed)).size).toBe(180);
    const runId = instances[0]!.runId!;
    expect(getRun(project.db, runId)?.status).toBe('done');
    expect(listRounds(project.db, runId).map((r) => r.stage)).toEqual(['done', 'done', 'done']);
    const duplicates = project.db
      .prepare(
        'SELECT count(*) AS n FROM (SELECT instance_id, round_index, kind, count(*) AS c FROM scores GROUP BY 1, 2, 3 HAVING c > 1)',
      )
      .get() as { n: number };
    expect(duplicates.n).toBe(0);
    project.close();
  });
});
