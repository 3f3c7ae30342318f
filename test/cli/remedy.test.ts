import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RemedyProposal } from '../../src/shared/api.ts';
import { findClass } from '../../src/main/store/classes.ts';
import { writeTransaction } from '../../src/main/store/database.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { openProject } from '../../src/main/store/project.ts';
import { recordSuggestions, suggestionOf } from '../../src/main/store/suggestions.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';
import { winnowCli as winnow } from '../helpers/winnowCli.ts';

/** Sets the suggested label of the shirts: the first `agree` agree, the rest suggest t-shirt. */
function shirtsSuggest(dir: string, agree: number): void {
  const project = openProject(dir);
  const shirt = findClass(project.db, 'shirt')!.id;
  const tshirt = findClass(project.db, 't-shirt')!.id;
  const shirts = listInstances(project.db).filter((i) => i.labelId === shirt);
  writeTransaction(project.db, () =>
    recordSuggestions(
      project.db,
      shirts.map((i, k) => ({
        instanceId: i.id,
        labelId: k < agree ? shirt : tshirt,
        probability: 0.8,
        runId: null,
        roundIndex: null,
      })),
    ),
  );
  project.close();
}

describe('winnow remedy', () => {
  it(
    "proposes remedies from the evidence, tries each on a scored batch, applies the best and prints each batch's agreement",
    { timeout: 300_000 },
    () => {
      const work = tempDir();
      const dir = join(work, 'demo');
      const env = { WINNOW_HOME: join(work, 'home'), WINNOW_RESOURCES: writeTinyResources(join(work, 'resources')) };
      expect(winnow(['demo', dir], env).code).toBe(0);
      expect(winnow(['generate', '--class', 'shirt', '--count', '10', '--seed', '1'], env).code).toBe(0);
      expect(winnow(['score'], env).code).toBe(0);

      shirtsSuggest(dir, 10);
      const agreeing = winnow(['remedy', 'shirt'], env);
      expect(agreeing.code).toBe(0);
      expect(agreeing.stdout).toBe('The head agrees with all 10 scored instances of shirt.\nNo remedy to propose.\n');
      expect(winnow(['remedy', 'shirt', '--apply'], env)).toMatchObject({ code: 1, stderr: /No remedy to apply/ });

      shirtsSuggest(dir, 3);
      const printed = winnow(['remedy', 'shirt'], env);
      expect(printed.stdout).toContain('7 of 7 disagreements (of 10 scored instances of shirt) suggest t-shirt.');
      expect(printed.stdout).toContain(
        'Remedies to try away from t-shirt: negative prompt naming the confused class; stronger guidance. Try them: winnow remedy shirt --apply',
      );
      const proposal = JSON.parse(winnow(['remedy', 'shirt', '--json'], env).stdout) as RemedyProposal;
      expect(proposal).toMatchObject({ negativePrompt: 't-shirt', agreement: { agreeing: 3, suggested: 10 } });

      // A model that is not registered is refused before anything changes.
      const unknown = winnow(['remedy', 'shirt', '--apply', '--model', 'nosuch'], env);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toMatch(/nosuch/);
      const untouched = openProject(dir);
      expect(findClass(untouched.db, 'shirt')!.negativePrompt).toBe('');
      untouched.close();

      const applied = winnow(['remedy', 'shirt', '--apply', '--count', '4', '--seed', '900'], env);
      expect(applied.code).toBe(0);
      const project = openProject(dir);
      const shirt = findClass(project.db, 'shirt')!;
      // Three batches from the same seeds, one generate run each: none, the negative, stronger guidance.
      const made = listInstances(project.db).filter((i) => i.labelId === shirt.id && (i.seed ?? 0) >= 900);
      const runs = [...new Set(made.map((i) => i.runId))];
      expect(runs).toHaveLength(3);
      const batches = runs.map((run) => made.filter((i) => i.runId === run));
      for (const batch of batches) expect(batch.map((i) => i.seed)).toEqual([900, 901, 902, 903]);
      expect(batches[1]!.every((i) => i.negativePrompt === 't-shirt')).toBe(true);
      expect(batches[2]!.every((i) => JSON.parse(i.genParams).guidanceScale === 4)).toBe(true);
      const agreeingPerBatch = batches.map(
        (b) => b.filter((i) => suggestionOf(project.db, i.id)?.labelId === shirt.id).length,
      );
      const settings = { negativePrompt: shirt.negativePrompt, guidanceScale: shirt.guidanceScale };
      project.close();
      const line = (n: number) => `${n} of 4 (${((100 * n) / 4).toFixed(1)}%)`;
      expect(applied.stdout).toContain(
        `Tried remedies for shirt (confused with t-shirt) on 4 instances each, seeds from 900, and scored the project`,
      );
      expect(applied.stdout).toContain(`before                     3 of 10 (30.0%) of the class's instances`);
      expect(applied.stdout).toContain(`no remedy                  ${line(agreeingPerBatch[0]!)}`);
      expect(applied.stdout).toContain(`negative prompt "t-shirt"  ${line(agreeingPerBatch[1]!)}`);
      expect(applied.stdout).toContain(`guidance scale 4           ${line(agreeingPerBatch[2]!)}`);
      expect(applied.stdout).toContain(
        'Not tried: disambiguation naming what the class is not (the generator does not follow the wording of a prompt).',
      );
      expect(applied.stdout).toContain('Not tried: fewer budget for the class (it changes how many images');
      // The verdict follows the agreement: the best raise is applied, or nothing.
      const best = Math.max(agreeingPerBatch[1]!, agreeingPerBatch[2]!);
      if (best <= agreeingPerBatch[0]!) {
        expect(applied.stdout).toContain('No remedy tried raised agreement; left as is.');
        expect(settings).toEqual({ negativePrompt: '', guidanceScale: null });
      } else if (agreeingPerBatch[1]! >= agreeingPerBatch[2]!) {
        expect(applied.stdout).toContain('applied: negative prompt "t-shirt".');
        expect(settings).toEqual({ negativePrompt: 't-shirt', guidanceScale: null });
      } else {
        expect(applied.stdout).toContain('applied: guidance scale 4.');
        expect(settings).toEqual({ negativePrompt: '', guidanceScale: 4 });
      }
      expect(applied.stdout).toContain('not accuracy');
    },
  );

  it('refuses a class the project does not have, naming those it has', { timeout: 60_000 }, () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home'), WINNOW_RESOURCES: writeTinyResources(join(work, 'resources')) };
    expect(winnow(['demo', join(work, 'demo')], env).code).toBe(0);
    const refused = winnow(['remedy', 'bunny'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/"bunny" is not a class of this project[\s\S]*t-shirt/);
  });
});
