import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { defaultLoopParams, type LoopParams, resumeLoop, startLoop } from '../../src/main/pipeline/loop.ts';
import { instancesOfRun, listInstances } from '../../src/main/store/instances.ts';
import { getRun, metricsOf } from '../../src/main/store/runs.ts';
import { runDetail } from '../../src/main/pipeline/runReport.ts';
import { featuresOf } from '../../src/main/pipeline/featureCache.ts';
import { loadRealData } from '../../src/main/pipeline/realData.ts';
import { fitTrainedHead } from '../../src/main/pipeline/scoring.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/main/store/features.ts';
import type { Project } from '../../src/main/store/project.ts';
import {
  decidingKind,
  RULE_CHOSEN,
  RULE_VAL_ACCURACY,
  ruleLabel,
  VALIDATED_CANDIDATES,
} from '../../src/shared/runSettings.ts';
import { chooseOnValidation, decide, type ScoreRule } from '../../src/main/learn/acceptance.ts';
import { rowsOf } from '../../src/main/learn/headFit.ts';
import { accuracy as headAccuracy } from '../../src/main/learn/softmaxHead.ts';
import { latestScoresOf, scoreHistory } from '../../src/main/store/scores.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

// The loop's fixed baseline policies and BSGAL's batch decision, on the demo project with tiny models.
let models: { generator: EmbeddedGenerator; encoder: EmbeddedEncoder };
const quick: LoopParams = {
  ...defaultLoopParams,
  rounds: 1,
  perRound: 20,
  steps: 2,
  acquisition: 'random',
  folds: 2,
  lambdaGrid: [1e-2],
  seed: 3,
};

beforeAll(async () => {
  const resources = writeTinyResources(tempDir());
  models = {
    generator: await EmbeddedGenerator.load(join(resources, 'models/fmnist-ddpm')),
    encoder: await EmbeddedEncoder.load(join(resources, 'models/fmnist-backbone')),
  };
});
afterAll(async () => {
  await models.generator.dispose();
  await models.encoder.dispose();
});

async function run(params: Partial<LoopParams>) {
  const project = await createDemoProject(join(tempDir(), 'demo'));
  const runId = await startLoop(project, models, { ...quick, ...params });
  expect(getRun(project.db, runId)?.status).toBe('done');
  const instances = listInstances(project.db);
  expect(instances).toHaveLength(20);
  return { project, runId, instances };
}

describe('the loop filters', () => {
  it('all accepts every instance, none rejects every one; both still record every score', async () => {
    const all = await run({ filter: 'all' });
    expect(all.instances.every((i) => i.status === 'accepted')).toBe(true);
    expect(metricsOf(all.project.db, all.runId).find((m) => m.name === 'accepted_total')?.value).toBe(20);
    expect(scoreHistory(all.project.db, all.instances[0]!.id).some((h) => h.kind === 'quality')).toBe(true);
    all.project.close();
    const none = await run({ filter: 'none' });
    expect(none.instances.every((i) => i.status === 'rejected')).toBe(true);
    none.project.close();
  });

  it('random keeps a seeded share, the same for the same seed', async () => {
    const first = await run({ filter: 'random', rule: { kind: 'random', keep: 0.5, seed: 0 } });
    const kept = first.instances.filter((i) => i.status === 'accepted').length;
    expect(kept).toBeGreaterThan(3);
    expect(kept).toBeLessThan(17);
    first.project.close();
    const again = await run({ filter: 'random', rule: { kind: 'random', keep: 0.5, seed: 0 } });
    expect(again.instances.map((i) => i.status)).toEqual(first.instances.map((i) => i.status));
    again.project.close();
  });

  it("batch granularity gives a batch's members one cross-fitted cosine and decides them together", async () => {
    const { project, runId, instances } = await run({
      filter: 'contribution',
      granularity: 'batch',
      batchSize: 4,
      rule: { kind: 'threshold', threshold: 0 },
    });
    const batch = instances.map(
      (i) => scoreHistory(project.db, i.id).find((h) => h.kind === 'contribution_batch' && h.runId === runId)!.value,
    );
    for (let start = 0; start < 20; start += 4) {
      const members = batch.slice(start, start + 4);
      expect(new Set(members).size).toBe(1);
      const statuses = new Set(instances.slice(start, start + 4).map((i) => i.status));
      expect(statuses).toEqual(new Set([(members[0] as number) >= 0 ? 'accepted' : 'rejected']));
    }
    expect(batch.every((v) => v >= -1 && v <= 1)).toBe(true);
    project.close();
  });

  it("the default filter is the default ranking with confident learning's rule, and records cv_accuracy", async () => {
    const { project, runId, instances } = await run({});
    const params = JSON.parse(getRun(project.db, runId)!.params) as LoopParams;
    expect(params.filter).toBe('quality');
    expect(params.rule).toEqual({ kind: 'confident' });
    // Accepted exactly where the confident-learning margin the round decided on is ≥ 0.
    const margins = latestScoresOf(project.db, 'confident_margin');
    expect(instances.map((i) => i.status)).toEqual(
      instances.map((i) => (margins.get(i.id)! >= 0 ? 'accepted' : 'rejected')),
    );
    const metrics = metricsOf(project.db, runId);
    expect(metrics.find((m) => m.roundIndex === -1 && m.name === 'cv_accuracy')?.value).toBeGreaterThan(0);
    expect(metrics.find((m) => m.roundIndex === -1 && m.name === 'lambda')?.value).toBe(1e-2);
    project.close();
  });

  it('the validated rule decides with the candidate the validation split chooses, and records the choice', async () => {
    // After a run that rejected all it made: the project's instances the heads may train on are
    // not the first ones, so each head's rows are picked out of the project's, not taken in order.
    const { project } = await run({ filter: 'none' });
    const runId = await startLoop(project, models, { ...quick, seed: 4, rule: { kind: 'validated' } });
    const instances = instancesOfRun(project.db, runId);
    expect(instances).toHaveLength(20);
    const metrics = metricsOf(project.db, runId).filter((m) => m.roundIndex === 0);
    // Each candidate's validation accuracy, in the candidates' order (metricsOf sorts by name).
    const tried = VALIDATED_CANDIDATES.map(
      (rule) => metrics.find((m) => m.name === `${RULE_VAL_ACCURACY}${ruleLabel(rule)}`)!.value,
    );
    expect(metrics.filter((m) => m.name.startsWith(RULE_VAL_ACCURACY))).toHaveLength(VALIDATED_CANDIDATES.length);
    const chosen = metrics.filter((m) => m.name.startsWith(RULE_CHOSEN));
    expect(chosen).toHaveLength(1);
    // The round's head is the chosen candidate's, and no candidate is ahead of it by much (each
    // accuracy is on the same 1,000 validation images; one SE of a difference is a point at most).
    const accuracy = metrics.find((m) => m.name === 'val_accuracy')!.value;
    const pick = VALIDATED_CANDIDATES.find((rule) => chosen[0]!.name === `${RULE_CHOSEN}${ruleLabel(rule)}`)!;
    expect(tried[VALIDATED_CANDIDATES.indexOf(pick)]).toBe(accuracy);
    expect(Math.max(...tried) - accuracy).toBeLessThan(0.02);
    expect(runDetail(project.db, runId).rounds.map((r) => r.rule)).toEqual([null, ruleLabel(pick)]);
    expect(listInstances(project.db, { status: 'accepted' }).every((i) => i.runId === runId)).toBe(true);
    // The decisions are the chosen rule's, on the scores the round recorded.
    if (pick.kind === 'confident') {
      const margins = latestScoresOf(project.db, 'confident_margin');
      expect(instances.map((i) => i.status)).toEqual(
        instances.map((i) => (margins.get(i.id)! >= 0 ? 'accepted' : 'rejected')),
      );
    } else {
      const quality = latestScoresOf(project.db, 'quality');
      for (const label of new Set(instances.map((i) => i.labelId))) {
        const ofClass = instances.filter((i) => i.labelId === label);
        const kept = ofClass.filter((i) => i.status === 'accepted').map((i) => quality.get(i.id)!);
        const dropped = ofClass.filter((i) => i.status === 'rejected').map((i) => quality.get(i.id)!);
        expect(kept).toHaveLength(Math.ceil(pick.keep * ofClass.length));
        if (dropped.length > 0) expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
      }
    }
    // Each candidate's head is trained on the real training images and exactly what it accepts (its
    // recorded accuracy is that head's), and the round's head is the chosen candidate's.
    const { real, headOf } = await candidateHeads(project, runId);
    expect(VALIDATED_CANDIDATES.map((rule) => headAccuracy(headOf(rule), real.val))).toEqual(tried);
    expect(loadCheckpoint(project.db, runId, 0)!.head).toEqual(headOf(pick).weights);
    project.close();
  });

  it('the validated rule holds the run’s last choice while it is within one SE of the best', async () => {
    const project = await createDemoProject(join(tempDir(), 'demo'));
    // Stopped after its first round, so the choice it holds can be set before the second.
    const stop = new AbortController();
    const settings = { ...quick, rounds: 2, seed: 6, rule: { kind: 'validated' } } as const;
    let runId = -1;
    await expect(
      startLoop(project, models, settings, {
        signal: stop.signal,
        onProgress: (e) => {
          runId = e.runId;
          if (e.stage === 'evaluate' && e.round === 0 && e.done === e.total) stop.abort();
        },
      }),
    ).rejects.toThrow();
    const chosenIn = (round: number) =>
      metricsOf(project.db, runId)
        .find((m) => m.roundIndex === round && m.name.startsWith(RULE_CHOSEN))!
        .name.slice(RULE_CHOSEN.length);
    const first = loadCheckpoint(project.db, runId, 0)!;
    expect(first.state).toMatchObject({ chosenRule: chosenIn(0) });
    const last = VALIDATED_CANDIDATES.length - 1;
    saveCheckpoint(project.db, runId, 0, {
      ...first,
      state: { ...(first.state as object), chosenRule: ruleLabel(VALIDATED_CANDIDATES[last]!) },
    });
    await resumeLoop(project, models);
    const { real, headOf } = await candidateHeads(project, runId);
    const trials = VALIDATED_CANDIDATES.map((rule) => ({ rule, accepted: [], head: headOf(rule) }));
    const held = chooseOnValidation(trials, real.val, last).chosen.rule;
    // On these heads the hold changes the choice: without it, an earlier candidate would decide.
    expect(chooseOnValidation(trials, real.val).chosen.rule).not.toBe(held);
    expect(chosenIn(1)).toBe(ruleLabel(held));
    expect(loadCheckpoint(project.db, runId, 1)!.state).toMatchObject({ chosenRule: ruleLabel(held) });
    project.close();
  });
});

/**
 * The head each validated candidate trains in a run's last round: the real training images and
 * exactly what the candidate accepts of the run's instances, on the scores that round recorded.
 */
async function candidateHeads(project: Project, runId: number) {
  const instances = instancesOfRun(project.db, runId);
  const real = await loadRealData(project, models.encoder);
  const features = await featuresOf(
    project,
    models.encoder,
    instances.map((i) => i.imageHash),
  );
  const labels = Int32Array.from(instances, (i) => real.indexOf.get(i.labelId)!);
  const lambda = metricsOf(project.db, runId).find((m) => m.roundIndex === -1 && m.name === 'lambda')!.value;
  const headOf = (rule: ScoreRule) => {
    const scores = latestScoresOf(project.db, decidingKind(rule, 'quality'));
    const { accepted } = decide(
      rule,
      Float32Array.from(instances, (i) => scores.get(i.id)!),
      labels,
    );
    const rows = instances.flatMap((_, k) => (accepted[k] ? [k] : []));
    const synthetic = rowsOf({ features, labels }, rows, models.encoder.dim);
    return fitTrainedHead(real.train, synthetic, real.classes.length, lambda);
  };
  return { real, headOf };
}
