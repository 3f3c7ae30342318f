import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossFitHead } from '../../src/main/learn/headFit.ts';
import { SCORING_DEFAULTS } from '../../src/main/learn/learnDefaults.ts';
import { predictProba } from '../../src/main/learn/softmaxHead.ts';
import { EMBEDDED_ENCODER, embeddedModelDir } from '../../src/main/models/embeddedModels.ts';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { auditSummary } from '../../src/main/pipeline/audit.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { exportDataset } from '../../src/main/pipeline/exportDataset.ts';
import { featuresOf } from '../../src/main/pipeline/featureCache.ts';
import { allRealData, loadRealData } from '../../src/main/pipeline/realData.ts';
import { defaultScoreOptions, scoreProject } from '../../src/main/pipeline/scoreSet.ts';
import { rawHead } from '../../src/main/pipeline/scoring.ts';
import { createEngine, dispatch } from '../../src/main/service/winnowService.ts';
import { actionHistory, recordVerdict } from '../../src/main/store/curation.ts';
import { getInstance, insertInstance, listInstances } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { suggestionOf } from '../../src/main/store/suggestions.ts';
import type { WinnowApi } from '../../src/shared/api.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { syntheticRow } from '../helpers/instanceRows.ts';

// The demo project (Fashion-MNIST, the embedded backbone) with synthetic instances on its validation
// images, every third labelled as the next class, scored by `winnow score`'s own function.
const HEAD = { folds: 2, lambdaGrid: [1e-2] };
let project: Project;
let encoder: EmbeddedEncoder;
let api: WinnowApi;

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = await createDemoProject(join(tempDir(), 'demo'));
  const classIds = [...new Set(listRealSamples(project.db, 'val').map((s) => s.classId))].sort((a, b) => a - b);
  const perClass = new Map<number, number>();
  listRealSamples(project.db, 'val').forEach((sample, k) => {
    const taken = perClass.get(sample.classId) ?? 0;
    if (taken >= 6) return;
    perClass.set(sample.classId, taken + 1);
    const wrong = classIds[(classIds.indexOf(sample.classId) + 1) % classIds.length]!;
    const labelId = taken % 3 === 0 ? wrong : sample.classId;
    insertInstance(project.db, syntheticRow(sample.imageHash, labelId, { source: 'imported', seed: k }));
  });
  encoder = await EmbeddedEncoder.load(embeddedModelDir(EMBEDDED_ENCODER));
  await scoreProject(project, encoder, { ...defaultScoreOptions, settings: SCORING_DEFAULTS, head: HEAD });
  api = createEngine(project).api;
}, 300_000);
afterAll(async () => {
  await encoder?.dispose();
  project?.close();
});

describe('suggested labels', () => {
  it("are the argmax of the scoring head's probabilities, recomputed here from the real data", async () => {
    const real = await loadRealData(project, encoder);
    const fit = crossFitHead(allRealData(real), real.classes.length, HEAD);
    const instances = listInstances(project.db);
    const features = await featuresOf(
      project,
      encoder,
      instances.map((i) => i.imageHash),
    );
    const p = predictProba(rawHead(fit, fit.full.weights), features);
    const C = real.classes.length;
    let disagreeing = 0;
    instances.forEach((instance, i) => {
      const row = Array.from(p.subarray(i * C, (i + 1) * C));
      const top = row.indexOf(Math.max(...row));
      const stored = suggestionOf(project.db, instance.id)!;
      expect(stored.labelId).toBe(real.classes[top]!.id);
      expect(stored.probability).toBeCloseTo(row[top]!, 4);
      if (stored.labelId !== instance.labelId) disagreeing++;
    });
    expect(instances.length).toBe(60);
    // The head catches the planted wrong labels: the matrix has real disagreements, counted right.
    expect(disagreeing).toBeGreaterThanOrEqual(10);
    const matrix = await api.labelIssues({});
    expect(matrix.disagreements).toBe(disagreeing);
    expect(matrix.suggested).toBe(60);
    expect(matrix.unsuggested).toBe(0);
    for (const cell of matrix.cells) expect(cell.disagreement).toBe(cell.labelId !== cell.suggestedId);
  });

  it('lists a cell by probability, and the instance detail shows the suggestion', async () => {
    const matrix = await api.labelIssues({});
    const cell = matrix.cells.filter((c) => c.disagreement).sort((a, b) => b.count - a.count)[0]!;
    const page = await api.labelIssueInstances({ ...cell, offset: 0, limit: 100 });
    expect(page.total).toBe(cell.count);
    expect(page.items.length).toBe(cell.count);
    const probabilities = page.items.map((i) => i.suggestion.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    for (const item of page.items) {
      expect(item.labelId).toBe(cell.labelId);
      expect(item.suggestion.labelId).toBe(cell.suggestedId);
    }
    const detail = await api.instanceDetail({ id: page.items[0]!.id });
    expect(detail.suggestion).toEqual(page.items[0]!.suggestion);
  });

  it('applied, relabel like a curator: export, audit trail, audit summary and undo all see it', async () => {
    const matrix = await api.labelIssues({});
    const cell = matrix.cells.find((c) => c.disagreement)!;
    const { items } = await api.labelIssueInstances({ ...cell, offset: 0, limit: 100 });
    const [first] = items;
    const original = getInstance(project.db, first!.id)!;
    recordVerdict(project.db, first!.id, 'incorrect');
    // An instance already labelled as suggested is left alone.
    const agreeing = (await api.labelIssues({})).cells.find((c) => !c.disagreement)!;
    const same = (await api.labelIssueInstances({ ...agreeing, offset: 0, limit: 1 })).items[0]!;

    const applied = await api.applySuggestedLabels({ ids: [first!.id, same.id] });
    expect(applied.relabelled).toBe(1);
    expect(getInstance(project.db, first!.id)!.labelId).toBe(cell.suggestedId);
    const history = actionHistory(project.db, first!.id);
    expect(history.map((a) => a.action)).toEqual(['relabel']);
    expect(JSON.parse(history[0]!.after)).toMatchObject({ labelId: cell.suggestedId });
    expect(actionHistory(project.db, same.id)).toEqual([]);
    expect(auditSummary(project.db).classes.find((c) => c.classId === cell.labelId)?.relabelled).toBe(1);

    const after = await api.labelIssues({});
    const count = (m: typeof after, labelId: number, suggestedId: number) =>
      m.cells.find((c) => c.labelId === labelId && c.suggestedId === suggestedId)?.count ?? 0;
    expect(count(after, cell.labelId, cell.suggestedId)).toBe(cell.count - 1);
    expect(count(after, cell.suggestedId, cell.suggestedId)).toBe(
      count(matrix, cell.suggestedId, cell.suggestedId) + 1,
    );
    expect(after.disagreements).toBe(matrix.disagreements - 1);

    const destination = join(tempDir(), 'out');
    await exportDataset(project, destination, { status: 'all', formats: ['jsonl'] });
    const rows = readFileSync(join(destination, 'manifest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: number; label: string; pseudo_label: string });
    const name = (id: number) => matrix.classes.find((c) => c.id === id)!.name;
    expect(rows.find((r) => r.id === first!.id)).toMatchObject({
      label: name(cell.suggestedId),
      pseudo_label: name(original.classId),
    });

    expect((await api.undo({})).batch).toBe(applied.batch);
    expect(getInstance(project.db, first!.id)!.labelId).toBe(cell.labelId);
    expect((await api.labelIssues({})).disagreements).toBe(matrix.disagreements);
  });

  it('refuses an instance that was never scored, and filters the matrix by status', async () => {
    const [sample] = listRealSamples(project.db, 'train');
    const id = insertInstance(project.db, syntheticRow(sample!.imageHash, sample!.classId));
    await expect(api.applySuggestedLabels({ ids: [id] })).rejects.toThrow(/has no suggested label/);
    // Requests are checked against the contract first, and refusals name the field.
    await expect(
      dispatch(api, 'labelIssueInstances', { labelId: 1, suggestedId: 'coat', offset: 0, limit: 10 }),
    ).rejects.toThrow(/suggested label id/);
    await expect(dispatch(api, 'applySuggestedLabels', { ids: [] })).rejects.toThrow(/instance ids/);
    await expect(dispatch(api, 'labelIssues', { status: 'all' })).rejects.toThrow(/status/);
    expect((await api.labelIssues({})).unsuggested).toBe(1);
    expect((await api.instanceDetail({ id })).suggestion).toBeNull();
    const all = await api.labelIssues({});
    const parts = await Promise.all(
      (['accepted', 'rejected', 'pending'] as const).map((status) => api.labelIssues({ status })),
    );
    expect(parts.reduce((n, m) => n + m.suggested, 0)).toBe(all.suggested);
    expect(parts[0]!.suggested).toBe(listInstances(project.db, { status: 'accepted' }).length);
  });
});
