import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditSummary, drawAuditSample } from '../../src/main/pipeline/audit.ts';
import { addClass } from '../../src/main/store/classes.ts';
import { curate, recordVerdict, undoLastAction } from '../../src/main/store/curation.ts';
import { recordImage } from '../../src/main/store/images.ts';
import { insertInstance } from '../../src/main/store/instances.ts';
import { initProject } from '../../src/main/store/project.ts';
import { recordScores } from '../../src/main/store/scores.ts';
import { tempDir } from '../helpers/fixtures.ts';

function project() {
  const p = initProject(join(tempDir(), 'p'));
  const classes = [addClass(p.db, { name: 'bun' }), addClass(p.db, { name: 'bunny' })];
  const ids: number[] = [];
  for (let n = 0; n < 40; n++) {
    const hash = n.toString(16).padStart(64, '0');
    recordImage(p.db, { hash, width: 1, height: 1, channels: 1, bytes: 1 });
    const cls = classes[n % 2]!;
    const id = insertInstance(p.db, {
      imageHash: hash,
      classId: cls.id,
      labelId: cls.id,
      source: 'generated',
      sourcePath: null,
      prompt: '',
      negativePrompt: '',
      seed: n,
      epsilon: 0,
      perturbation: null,
      generatorId: 'g',
      genParams: '{}',
      runId: null,
      roundIndex: null,
    });
    // The default ranking (quality) and cosine contribution, in the same order here.
    recordScores(p.db, [
      { instanceId: id, kind: 'contribution', value: n / 40, runId: null, roundIndex: null },
      { instanceId: id, kind: 'quality', value: n / 40 - 1, runId: null, roundIndex: null },
    ]);
    ids.push(id);
  }
  return { p, classes, ids };
}

describe('audit', () => {
  it('draws one instance per score stratum of each class, deterministically, skipping audited ones', () => {
    const { p, ids } = project();
    const sample = drawAuditSample(p.db, 4, 7);
    expect(sample).toHaveLength(8);
    // Class "bun" holds even n (scores 0, 0.05, … 0.95): one draw from each quarter of them.
    const bun = sample.filter((i) => i.labelId === 1).map((i) => i.contribution as number);
    expect(bun.map((c) => Math.floor(c * 4))).toEqual([0, 1, 2, 3]);
    expect(drawAuditSample(p.db, 4, 7).map((i) => i.id)).toEqual(sample.map((i) => i.id));
    recordVerdict(p.db, sample[0]!.id, 'correct');
    expect(drawAuditSample(p.db, 20, 7).map((i) => i.id)).not.toContain(sample[0]!.id);
    expect(ids).toHaveLength(40);
    p.close();
  });

  it('estimates accuracy per class with a Wilson interval and the score’s agreement with verdicts', () => {
    const { p, ids } = project();
    // Low scores judged incorrect, high ones correct: perfect agreement.
    ids.forEach((id, n) => recordVerdict(p.db, id, n < 10 ? 'incorrect' : 'correct'));
    const summary = auditSummary(p.db);
    expect(summary.overall).toMatchObject({ audited: 40, correct: 30, accuracy: 0.75 });
    expect(summary.overall.low).toBeLessThan(0.75);
    expect(summary.overall.high).toBeGreaterThan(0.75);
    expect(summary.classes.map((c) => [c.name, c.audited, c.correct])).toEqual([
      ['bun', 20, 15],
      ['bunny', 20, 15],
    ]);
    expect(summary.agreement).toMatchObject({ kind: 'quality', scored: 40, auroc: 1 });
    expect(summary.agreement.meanIncorrect!).toBeLessThan(summary.agreement.meanCorrect!);
    expect(summary.agreement.meanCorrect!).toBeLessThan(0);
    // Any kind can be asked for: its own values, or nothing scored when no instance has that kind.
    expect(auditSummary(p.db, 'contribution').agreement).toMatchObject({ kind: 'contribution', scored: 40, auroc: 1 });
    expect(auditSummary(p.db, 'contribution').agreement.meanCorrect!).toBeGreaterThan(0);
    expect(auditSummary(p.db, 'small_loss').agreement).toMatchObject({ scored: 0, auroc: null });
    p.close();
  });

  it('keeps a verdict with the label it judged when the instance is relabelled, and says which label that was', () => {
    const { p, classes, ids } = project();
    const [bun, bunny] = classes;
    const row = (name: string) => auditSummary(p.db).classes.find((c) => c.name === name);
    const id = ids[0]!; // a bun
    recordVerdict(p.db, id, 'incorrect');
    curate(p.db, { instanceIds: [id], action: 'relabel', labelId: bunny!.id });
    // Judged an incorrect bun: it stays one, and is not counted as an incorrect bunny.
    expect(row('bun')).toMatchObject({ audited: 1, correct: 0, relabelled: 1 });
    expect(row('bunny')).toMatchObject({ audited: 0, correct: 0, relabelled: 0 });
    // Its scores now rank it as a bunny, for which no verdict was given yet.
    expect(auditSummary(p.db).agreement.scored).toBe(0);
    // As a bunny it has not been judged, so a sample may draw it again; judged, it is not drawn again.
    expect(drawAuditSample(p.db, 20, 3).map((i) => i.id)).toContain(id);
    recordVerdict(p.db, id, 'correct');
    expect(drawAuditSample(p.db, 20, 3).map((i) => i.id)).not.toContain(id);
    expect(row('bunny')).toMatchObject({ audited: 1, correct: 1, relabelled: 0 });
    expect(row('bun')).toMatchObject({ audited: 1, correct: 0, relabelled: 1 });
    expect(auditSummary(p.db).overall).toMatchObject({ audited: 2, correct: 1 });
    expect(auditSummary(p.db).agreement.scored).toBe(1);
    // Undoing the relabel moves no verdict either.
    undoLastAction(p.db);
    expect(row('bun')).toMatchObject({ audited: 1, correct: 0, relabelled: 0 });
    expect(row('bunny')).toMatchObject({ audited: 1, correct: 1, relabelled: 1 });
    // A verdict given on the label the auditor was shown, though the instance was relabelled meanwhile.
    const other = ids[2]!;
    curate(p.db, { instanceIds: [other], action: 'relabel', labelId: bunny!.id });
    expect(recordVerdict(p.db, other, 'correct', bun!.id)).toMatchObject({ labelId: bun!.id });
    expect(row('bun')).toMatchObject({ audited: 2, correct: 1, relabelled: 1 });
    expect(() => recordVerdict(p.db, other, 'correct', 999)).toThrow(/no class with id 999/);
    p.close();
  });
});
