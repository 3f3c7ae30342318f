import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { latestScores } from '../../src/main/store/scores.ts';
import { openProject, type Project } from '../../src/main/store/project.ts';
import { metricsOf } from '../../src/main/store/runs.ts';
import { RULE_CHOSEN, RULE_VAL_ACCURACY, ruleLabel, VALIDATED_CANDIDATES } from '../../src/shared/runSettings.ts';
import { HEAD_SCORE_KINDS } from '../../src/shared/scoreKinds.ts';
import { makeImageFolder, tempDir, writeFashionTestFolder } from '../helpers/fixtures.ts';
import { accuracy } from '../../src/main/learn/softmaxHead.ts';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { resourcesDir } from '../../src/main/models/embeddedModels.ts';
import { featuresOf } from '../../src/main/pipeline/featureCache.ts';
import { emptySet, loadRealData } from '../../src/main/pipeline/realData.ts';
import { fitTrainedHead } from '../../src/main/pipeline/scoring.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { winnowCli as winnow } from '../helpers/winnowCli.ts';

function latestRunId(project: Project): number {
  return Math.max(
    ...project.db
      .prepare('SELECT id FROM runs')
      .all()
      .map((r) => (r as { id: number }).id),
  );
}

/** A project with real train and validation images of two classes and 10 imported synthetic ones. */
async function importedProject() {
  const work = tempDir();
  const env = { WINNOW_HOME: join(work, 'home') };
  const dir = join(work, 'p');
  await makeImageFolder(join(work, 'train'), { bun: 6, coat: 6 });
  await makeImageFolder(join(work, 'val'), { bun: 4, coat: 4 }, 50);
  await makeImageFolder(join(work, 'synthetic'), { bun: 5, coat: 5 }, 100);
  expect(winnow(['init', dir], env).code).toBe(0);
  winnow(['import', 'real', join(work, 'train'), '--split', 'train'], env);
  winnow(['import', 'real', join(work, 'val'), '--split', 'val'], env);
  expect(winnow(['import', 'synthetic', join(work, 'synthetic')], env).code).toBe(0);
  return { work, env, dir };
}

describe('winnow score and export with the default ranking', () => {
  it('scores every kind and quality, decides by --rule confident, and exports carry quality as score', async () => {
    const { work, env, dir } = await importedProject();

    const scored = winnow(['score', '--rule', 'confident', '--neighbours', '3', '--realism-weight', '0.5'], env);
    expect(scored.stderr).not.toMatch(/error/);
    expect(scored.code).toBe(0);
    expect(scored.stdout).toMatch(/Cross-validated accuracy of the real-data head: \d+\.\d% \(λ = [\d.e-]+\)/);
    const decided = scored.stdout.match(/Scored 10 instances .*: (\d+) accepted, (\d+) rejected by confident_margin/);
    expect(decided).not.toBeNull();

    const project = openProject(dir);
    const scores = latestScores(project.db);
    // The confident rule keeps exactly the instances confident learning does not flag.
    const kept = [...scores.values()].filter((s) => (s.confident_margin as number) >= 0).length;
    expect([Number(decided![1]), Number(decided![2])]).toEqual([kept, 10 - kept]);
    expect(scores.size).toBe(10);
    for (const s of scores.values()) expect(Object.keys(s)).toEqual(expect.arrayContaining([...HEAD_SCORE_KINDS]));
    const runId = latestRunId(project);
    const metric = metricsOf(project.db, runId).find((m) => m.name === 'cv_accuracy');
    expect(metric?.value).toBeGreaterThanOrEqual(0);
    const qualities = [...scores.values()].map((s) => s.quality as number).sort((a, b) => a - b);
    const cut = qualities[5] as number;
    project.close();

    // --min-score filters on quality: exactly the instances at or above the cut.
    const out = join(work, 'out');
    const exported = winnow(['export', out, '--status', 'all', '--min-score', String(cut)], env);
    expect(exported.stderr).toBe('');
    const lines = readFileSync(join(out, 'manifest.jsonl'), 'utf8').trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l) as { score: number; scores: Record<string, number> });
    expect(rows.length).toBe(qualities.filter((q) => q >= cut).length);
    for (const row of rows) {
      expect(row.score).toBe(row.scores.quality);
      expect(row.score).toBeGreaterThanOrEqual(cut);
    }
    const csv = parse(readFileSync(join(out, 'manifest.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    for (const row of csv) expect(Number(row.score)).toBe(Number(row.score_quality));
    const metadata = readFileSync(join(out, 'images', 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n');
    for (const line of metadata) {
      const m = JSON.parse(line) as { score: number; scores: Record<string, number> };
      expect(m.score).toBe(m.scores.quality);
    }
  });

  it('with no --rule, the validated rule decides with the candidate the validation split chooses, and says which', async () => {
    const { env, dir } = await importedProject();
    const scored = winnow(['score'], env);
    expect(scored.code).toBe(0);
    const said = scored.stdout.match(/(\d+) accepted, \d+ rejected by (\S+) \(the validated rule chose ([^)]+)\)\./);
    expect(said).not.toBeNull();
    const project = openProject(dir);
    const runId = latestRunId(project);
    const metrics = metricsOf(project.db, runId);
    const tried = VALIDATED_CANDIDATES.map(
      (rule) => metrics.find((m) => m.name === `${RULE_VAL_ACCURACY}${ruleLabel(rule)}`)!.value,
    );
    const pick = VALIDATED_CANDIDATES.find((rule) => ruleLabel(rule) === said![3])!;
    expect(tried[VALIDATED_CANDIDATES.indexOf(pick)]).toBeGreaterThan(0);
    expect(said![2]).toBe(pick.kind === 'confident' ? 'confident_margin' : 'quality');
    // The decisions are the chosen rule's: confident learning's, or the top share of each of the two classes of 5.
    const scores = [...latestScores(project.db).values()];
    const kept =
      pick.kind === 'confident'
        ? scores.filter((s) => (s.confident_margin as number) >= 0).length
        : 2 * Math.ceil(pick.keep * 5);
    expect(Number(said![1])).toBe(kept);
    expect(project.db.prepare("SELECT count(*) AS n FROM instances WHERE status = 'accepted'").get()).toEqual({
      n: kept,
    });
    expect(metrics.filter((m) => m.name.startsWith(RULE_CHOSEN)).map((m) => m.name)).toEqual([
      `${RULE_CHOSEN}${ruleLabel(pick)}`,
    ]);
    project.close();

    // --json reports the same decision, and every candidate with the validation accuracy its run recorded.
    const json = winnow(['score', '--json'], env);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    const again = openProject(dir);
    const jsonRun = latestRunId(again);
    const recorded = metricsOf(again.db, jsonRun);
    again.close();
    expect(report).toEqual({
      runId: jsonRun,
      scored: 10,
      accepted: kept,
      rejected: 10 - kept,
      rule: 'validated',
      decidedBy: said![2],
      chosenRule: said![3],
      candidates: VALIDATED_CANDIDATES.map((rule) => ({
        rule: ruleLabel(rule),
        validationAccuracy: recorded.find((m) => m.name === `${RULE_VAL_ACCURACY}${ruleLabel(rule)}`)!.value,
      })),
      cvAccuracy: recorded.find((m) => m.name === 'cv_accuracy')!.value,
      lambda: recorded.find((m) => m.name === 'lambda')!.value,
      test: null,
    });
  });
});

describe('winnow score on a project with a test split', () => {
  it('reports what the accepted instances do for a head on the held-out images, as fitTrainedHead gives it', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    const dir = join(work, 'p');
    expect(winnow(['init', dir], env).code).toBe(0);
    // Disjoint draws of Fashion-MNIST's test images: 3 train, 3 validation, 4 test and 6 "synthetic" per class.
    for (const [split, perClass, skip] of [
      ['train', 3, 0],
      ['val', 3, 3],
      ['test', 4, 6],
    ] as const) {
      await writeFashionTestFolder(join(work, split), perClass, skip);
      expect(winnow(['--project', dir, 'import', 'real', join(work, split), '--split', split], env).code).toBe(0);
    }
    await writeFashionTestFolder(join(work, 'synthetic'), 6, 10);
    expect(winnow(['--project', dir, 'import', 'synthetic', join(work, 'synthetic')], env).code).toBe(0);

    const scored = winnow(['--project', dir, 'score', '--json'], env);
    expect(scored.code).toBe(0);
    const report = JSON.parse(scored.stdout) as { lambda: number; test: unknown; runId: number };

    const project = openProject(dir);
    const encoder = await EmbeddedEncoder.load(join(resourcesDir(), 'models', 'fmnist-backbone'));
    const real = await loadRealData(project, encoder);
    const accepted = listInstances(project.db, { status: 'accepted' }).sort((a, b) => a.id - b.id);
    expect(accepted.length).toBeGreaterThan(0);
    const synthetic = {
      features: await featuresOf(
        project,
        encoder,
        accepted.map((i) => i.imageHash),
      ),
      labels: Int32Array.from(accepted, (i) => real.indexOf.get(i.labelId)!),
    };
    const test = {
      images: 40,
      realOnly: accuracy(fitTrainedHead(real.train, emptySet(), 10, report.lambda), real.test),
      withAccepted: accuracy(fitTrainedHead(real.train, synthetic, 10, report.lambda), real.test),
    };
    expect(report.test).toEqual(test);
    const metrics = metricsOf(project.db, report.runId);
    expect(metrics.find((m) => m.name === 'test_accuracy')?.value).toBe(test.withAccepted);
    expect(metrics.find((m) => m.name === 'test_accuracy_real_only')?.value).toBe(test.realOnly);
    await encoder.dispose();
    project.close();

    const said = winnow(['--project', dir, 'score'], env).stdout;
    expect(said).toContain(
      `Test split (40 real images, held out from all of it): a head trained on the real training images and the accepted instances reaches ${(100 * test.withAccepted).toFixed(1)}%, on the real training images alone ${(100 * test.realOnly).toFixed(1)}%.`,
    );
  });
});
