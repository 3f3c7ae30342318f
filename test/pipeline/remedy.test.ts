import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { applyRemedy, negativeNaming, proposeRemedy } from '../../src/main/pipeline/remedy.ts';
import { defaultScoreOptions, scoreProject } from '../../src/main/pipeline/scoreSet.ts';
import { type ClassRow, findClass, getClass, updateClass } from '../../src/main/store/classes.ts';
import { writeTransaction } from '../../src/main/store/database.ts';
import { getInstance, listInstances } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { recordSuggestions, suggestionOf } from '../../src/main/store/suggestions.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { tinyLoopModelsForThisFile } from '../helpers/tinyLoopModels.ts';

// The demo project with a batch of shirts from the tiny generator, scored as `winnow score` scores;
// the shirts' suggestions are then set so that most disagreements suggest t-shirt.
const SCORE = { ...defaultScoreOptions, head: { folds: 2, lambdaGrid: [1e-2] } };
const models = tinyLoopModelsForThisFile();
let project: Project;
let shirt: ClassRow;
let shirtIds: number[];

const id = (name: string) => findClass(project.db, name)!.id;

/** Sets the suggested label of each shirt in turn to these classes (by name). */
function suggestForShirts(names: readonly string[]): void {
  writeTransaction(project.db, () =>
    recordSuggestions(
      project.db,
      names.map((name, k) => ({
        instanceId: shirtIds[k]!,
        labelId: id(name),
        probability: 0.9,
        runId: null,
        roundIndex: null,
      })),
    ),
  );
}

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = await createDemoProject(join(tempDir(), 'demo'));
  shirt = findClass(project.db, 'shirt')!;
  shirtIds = (await generateInstances(project, models.generator, { className: 'shirt', count: 20, seed: 1 }))
    .instanceIds as number[];
  await scoreProject(project, models.encoder, SCORE);
}, 120_000);

describe('proposeRemedy', () => {
  it('names the class most disagreements suggest, with the counts, keeping the negative text there is', () => {
    // 5 agree, 12 suggest t-shirt, 3 suggest coat.
    suggestForShirts([...Array(5).fill('shirt'), ...Array(12).fill('t-shirt'), ...Array(3).fill('coat')]);
    updateClass(project.db, shirt.id, { negativePrompt: 'blurry' });
    const proposal = proposeRemedy(project.db, shirt.id);
    expect(proposal).toMatchObject({
      className: 'shirt',
      agreement: { agreeing: 5, suggested: 20 },
      disagreements: 15,
      confusedWith: { id: id('t-shirt'), name: 't-shirt', count: 12 },
      concentrated: true,
      currentNegativePrompt: 'blurry',
      negativePrompt: 'blurry, t-shirt',
    });
    expect(proposal.evidence).toBe('12 of 15 disagreements (of 20 scored instances of shirt) suggest t-shirt.');
  });

  it('proposes nothing when the disagreements spread over classes or are too few', () => {
    suggestForShirts([
      ...Array(8).fill('shirt'),
      ...Array(4).fill('t-shirt'),
      ...Array(4).fill('coat'),
      ...Array(4).fill('pullover'),
    ]);
    const spread = proposeRemedy(project.db, shirt.id);
    expect(spread).toMatchObject({ disagreements: 12, concentrated: false, negativePrompt: null });
    expect(spread.confusedWith?.count).toBe(4);
    expect(spread.evidence).toMatch(/^4 of 12 disagreements .* no single confusion/);

    suggestForShirts([...Array(17).fill('shirt'), ...Array(3).fill('t-shirt')]);
    expect(proposeRemedy(project.db, shirt.id)).toMatchObject({ concentrated: false, negativePrompt: null });
  });

  it('adds the class to a negative prompt only where it is not named already', () => {
    expect(negativeNaming('', 't-shirt')).toBe('t-shirt');
    expect(negativeNaming('a T-shirt, blurry', 't-shirt')).toBe('a T-shirt, blurry');
    // "shirt" inside "t-shirt" is not the class shirt.
    expect(negativeNaming('t-shirt', 'shirt')).toBe('t-shirt, shirt');
  });
});

describe('applyRemedy', () => {
  it('sets the negative prompt, makes a batch recorded with it, scores it and reports agreement before and after', async () => {
    suggestForShirts([...Array(5).fill('shirt'), ...Array(15).fill('t-shirt')]);
    updateClass(project.db, shirt.id, { negativePrompt: '' });
    const proposal = proposeRemedy(project.db, shirt.id);
    const stages = new Set<string>();
    const outcome = await applyRemedy(
      project,
      models,
      { classId: shirt.id, negativePrompt: proposal.negativePrompt!, count: 6, seed: 500 },
      { onProgress: (stage) => stages.add(stage) },
      SCORE,
    );
    expect(getClass(project.db, shirt.id).negativePrompt).toBe('t-shirt');
    expect(outcome).toMatchObject({ negativePrompt: 't-shirt', previousNegativePrompt: '' });
    expect(outcome.instanceIds).toHaveLength(6);
    for (const instanceId of outcome.instanceIds)
      expect(getInstance(project.db, instanceId)).toMatchObject({
        negativePrompt: 't-shirt',
        labelId: shirt.id,
        runId: outcome.generateRunId,
      });
    expect([...stages]).toEqual(['generate', 'score']);
    // Before: the class's instances as they were; after: the new batch as the new scoring suggests.
    expect(outcome.before).toEqual({ agreeing: 5, suggested: 20 });
    const agreeing = outcome.instanceIds.filter((i) => suggestionOf(project.db, i)?.labelId === shirt.id).length;
    expect(outcome.after).toEqual({ agreeing, suggested: 6 });
    expect(suggestionOf(project.db, outcome.instanceIds[0]!)?.runId).toBe(outcome.scoreRunId);
    expect(listInstances(project.db).filter((i) => i.classId === shirt.id)).toHaveLength(26);
  });

  it('refuses an empty negative prompt before making anything', async () => {
    await expect(
      applyRemedy(project, models, { classId: shirt.id, negativePrompt: '  ', count: 2 }, {}, SCORE),
    ).rejects.toThrow(/negative prompt is empty/);
    expect(listInstances(project.db).filter((i) => i.classId === shirt.id)).toHaveLength(26);
  });
});
