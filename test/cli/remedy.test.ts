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
    'proposes the negative prompt from the evidence, applies it with a scored batch and prints before and after',
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
      expect(printed.stdout).toContain('Proposed negative prompt: "t-shirt" (now: "")');
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
      expect(shirt.negativePrompt).toBe('t-shirt');
      const made = listInstances(project.db).filter((i) => i.labelId === shirt.id && i.negativePrompt === 't-shirt');
      expect(made).toHaveLength(4);
      const after = made.filter((i) => suggestionOf(project.db, i.id)?.labelId === shirt.id).length;
      project.close();
      const percent = (n: number, of: number) => ((100 * n) / of).toFixed(1);
      expect(applied.stdout).toContain(
        `Set the negative prompt of shirt to "t-shirt"; generated 4 instances (run ${made[0]!.runId})`,
      );
      expect(applied.stdout).toContain(`before: 3 of 10 (30.0%) of the class's instances`);
      expect(applied.stdout).toContain(`after:  ${after} of 4 (${percent(after, 4)}%) of the new batch`);
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
