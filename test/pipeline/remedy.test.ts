import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import {
  chooseRemedy,
  disambiguationExcluding,
  negativeNaming,
  proposeRemedy,
  REMEDY_KINDS,
  trialRemedies,
  triedKinds,
} from '../../src/main/pipeline/remedy.ts';
import { defaultScoreOptions, scoreProject } from '../../src/main/pipeline/scoreSet.ts';
import { Remedies } from '../../src/main/service/remedies.ts';
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

describe('chooseRemedy', () => {
  const agree = (agreeing: number, suggested = 20) => ({ agreeing, suggested });

  it('proposes the remedy that raised agreement most over the batch without a remedy', () => {
    const trials = [
      { kind: 'negative' as const, agreement: agree(12) },
      { kind: 'guidance' as const, agreement: agree(15) },
      { kind: 'disambiguation' as const, agreement: agree(11) },
    ];
    expect(chooseRemedy(agree(10), trials)).toBe('guidance');
    // Shares, not counts: 9 of 10 beats 15 of 20.
    expect(chooseRemedy(agree(10), [...trials, { kind: 'disambiguation', agreement: agree(9, 10) }])).toBe(
      'disambiguation',
    );
  });

  it('proposes none when no remedy raised agreement (a tie keeps the class as it is), or nothing was scored', () => {
    expect(
      chooseRemedy(agree(10), [
        { kind: 'negative', agreement: agree(4) },
        { kind: 'guidance', agreement: agree(10) },
      ]),
    ).toBeNull();
    expect(chooseRemedy(agree(0, 0), [{ kind: 'negative', agreement: agree(0, 0) }])).toBeNull();
    expect(chooseRemedy(agree(0, 0), [{ kind: 'negative', agreement: agree(3) }])).toBeNull();
  });
});

describe('the remedy kinds', () => {
  it('offer the disambiguation only to generators that follow text, and try fewer budget on no batch', () => {
    const tried = (followsStyle: boolean) => triedKinds({ followsStyle }).map((k) => k.kind);
    expect(tried(false)).toEqual(['negative', 'guidance']);
    expect(tried(true)).toEqual(['negative', 'guidance', 'disambiguation']);
    expect(REMEDY_KINDS.find((k) => k.kind === 'budget')?.untriable).toMatch(/how many/);
  });

  it('add "not a <class>" to a disambiguation once', () => {
    expect(disambiguationExcluding('', 't-shirt')).toBe('not a t-shirt');
    expect(disambiguationExcluding('a garment with buttons', 't-shirt')).toBe('a garment with buttons, not a t-shirt');
    expect(disambiguationExcluding('Not a T-shirt', 't-shirt')).toBe('Not a T-shirt');
  });
});

describe('trialRemedies', () => {
  it('makes a batch without a remedy and one with each (same seeds), scores them and applies the best, or none', async () => {
    suggestForShirts([...Array(5).fill('shirt'), ...Array(15).fill('t-shirt')]);
    updateClass(project.db, shirt.id, { negativePrompt: 'coat' });
    const stages = new Set<string>();
    // What any other reader (a run, the Classes screen, another process) finds while batches are made.
    const seenMidTrial = new Set<string>();
    const outcome = await trialRemedies(
      project,
      models,
      { classId: shirt.id, count: 4, seed: 500, prompting: { followsStyle: true } },
      {
        onProgress: (stage) => {
          if (stage === 'generate') {
            const { negativePrompt, guidanceScale, disambiguation } = getClass(project.db, shirt.id);
            seenMidTrial.add(JSON.stringify([negativePrompt, guidanceScale, disambiguation]));
            // A curator's edit made during the trial is kept.
            if (!stages.has('generate')) updateClass(project.db, shirt.id, { budgetWeight: 0.8 });
          }
          stages.add(stage);
        },
      },
      SCORE,
    );
    expect([...stages]).toEqual(['generate', 'score']);
    expect([...seenMidTrial]).toEqual([JSON.stringify(['coat', null, ''])]);
    expect(outcome).toMatchObject({ className: 'shirt', confusedWith: 't-shirt', seed: 500 });
    expect(outcome.before).toEqual({ agreeing: 5, suggested: 20 });
    expect(outcome.trials.map((t) => [t.kind, t.change])).toEqual([
      ['negative', 'negative prompt "coat, t-shirt"'],
      ['guidance', `guidance scale ${models.generator.defaults.guidanceScale * 1.6}`],
      ['disambiguation', 'disambiguation "not a t-shirt"'],
    ]);
    // Fewer budget comes as a change to apply by hand: no batch shows it.
    expect(outcome.notTried).toEqual([
      {
        kind: 'budget',
        label: 'Fewer budget for the class',
        why: expect.stringMatching(/how many/),
        change: 'budget weight 0.5',
        apply: { budgetWeight: 0.5 },
      },
    ]);
    // Each batch was made with its remedy only, from the same seeds.
    const made = (ids: readonly number[]) => ids.map((i) => getInstance(project.db, i)!);
    const [negative, guidance, disambiguation] = outcome.trials.map((t) => made(t.instanceIds));
    const baseline = made(outcome.baseline.instanceIds);
    for (const batch of [baseline, negative!, guidance!, disambiguation!])
      expect(batch.map((i) => i.seed)).toEqual([500, 501, 502, 503]);
    expect(baseline.every((i) => i.negativePrompt === 'coat' && i.prompt === 'a photo of a shirt')).toBe(true);
    expect(negative!.every((i) => i.negativePrompt === 'coat, t-shirt')).toBe(true);
    expect(guidance!.every((i) => JSON.parse(i.genParams).guidanceScale === 4)).toBe(true);
    expect(disambiguation!.every((i) => i.prompt === 'a photo of a shirt (not a t-shirt)')).toBe(true);
    // Agreement is the new scoring's suggestion over each batch.
    const agreeing = (ids: readonly number[]) => ({
      agreeing: ids.filter((i) => suggestionOf(project.db, i)?.labelId === shirt.id).length,
      suggested: 4,
    });
    expect(outcome.baseline.agreement).toEqual(agreeing(outcome.baseline.instanceIds));
    for (const t of outcome.trials) expect(t.agreement).toEqual(agreeing(t.instanceIds));
    expect(suggestionOf(project.db, outcome.baseline.instanceIds[0]!)?.runId).toBe(outcome.scoreRunId);
    // The class keeps the chosen remedy's setting and nothing else of the trial.
    const chosen = chooseRemedy(outcome.baseline.agreement, outcome.trials);
    expect(outcome.chosen).toBe(chosen);
    const after = getClass(project.db, shirt.id);
    expect(after.negativePrompt).toBe(chosen === 'negative' ? 'coat, t-shirt' : 'coat');
    expect(after.guidanceScale).toBe(chosen === 'guidance' ? 4 : null);
    expect(after.disambiguation).toBe(chosen === 'disambiguation' ? 'not a t-shirt' : '');
    expect(after.budgetWeight).toBe(0.8);
    if (chosen === null) {
      expect(outcome).toMatchObject({ applied: null, undo: null });
      expect(outcome.verdict).toBe('No remedy tried raised agreement; left as is.');
    } else {
      const trial = outcome.trials.find((t) => t.kind === chosen)!;
      expect(outcome.applied).toBe(trial.change);
      expect(outcome.verdict).toMatch(/raised agreement most .*; applied: /);
      // Undoing puts back what the class had.
      updateClass(project.db, shirt.id, outcome.undo!);
      expect(getClass(project.db, shirt.id)).toMatchObject({
        negativePrompt: 'coat',
        guidanceScale: null,
        disambiguation: '',
      });
    }
    expect(listInstances(project.db).filter((i) => i.classId === shirt.id)).toHaveLength(36);
  });

  it('refuses a class with no single confusion, and an empty negative prompt, before making anything', async () => {
    suggestForShirts([...Array(17).fill('shirt'), ...Array(3).fill('t-shirt')]);
    const shirts = listInstances(project.db).filter((i) => i.classId === shirt.id).length;
    const prompting = { followsStyle: false };
    await expect(trialRemedies(project, models, { classId: shirt.id, count: 2, prompting }, {}, SCORE)).rejects.toThrow(
      /No remedy to try for shirt: .* disagreements/,
    );
    await expect(
      trialRemedies(
        project,
        models,
        { classId: shirt.id, count: 2, negativePrompt: ' ', confusedWith: 't-shirt', prompting },
        {},
        SCORE,
      ),
    ).rejects.toThrow(/negative prompt is empty/);
    expect(listInstances(project.db).filter((i) => i.classId === shirt.id)).toHaveLength(shirts);
  });
});

describe('a remedy trial the engine stops (its close, on Ctrl-C in winnow serve)', () => {
  it('ends as stopped, says so with the fix, and leaves the class as it was', async () => {
    // Every shirt the file made so far suggests t-shirt: one confusion, a remedy to try.
    const shirts = listInstances(project.db).filter((i) => i.classId === shirt.id);
    writeTransaction(project.db, () =>
      recordSuggestions(
        project.db,
        shirts.map((i) => ({
          instanceId: i.id,
          labelId: id('t-shirt'),
          probability: 0.9,
          runId: null,
          roundIndex: null,
        })),
      ),
    );
    const before = getClass(project.db, shirt.id);
    // Its own models: a trial disposes what it loaded.
    const load = async () => ({
      generator: await EmbeddedGenerator.load(join(models.resources, 'models/fmnist-ddpm')),
      encoder: await EmbeddedEncoder.load(join(models.resources, 'models/fmnist-backbone')),
    });
    const remedies = new Remedies(project, () => undefined, load);
    remedies.start({ classId: shirt.id, count: 1000 });
    while (remedies.state.state === 'running' && remedies.state.done === 0)
      await new Promise((wait) => setTimeout(wait, 20));
    await remedies.stop();
    expect(remedies.state).toMatchObject({
      state: 'failed',
      error: 'The remedy trial was stopped before it finished; the class is as it was.',
    });
    expect(getClass(project.db, shirt.id)).toEqual(before);
  });
});
