import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { addPromptTemplates, findClass, updateClass } from '../../src/main/store/classes.ts';
import { openProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { winnowCli as winnow } from '../helpers/winnowCli.ts';

describe('winnow prompts --add', () => {
  it('adds the first suggestions the class lacks to its templates, once', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    const dir = join(work, 'demo');
    (await createDemoProject(dir)).close();
    const before = openProject(dir);
    const templates = findClass(before.db, 'shirt')!.promptTemplates;
    before.close();

    const listed = winnow(['--project', dir, 'prompts', '--class', 'shirt'], env);
    expect(listed.code).toBe(0);
    const suggested = listed.stdout.split('\n').flatMap((line) => /^template\s+(.+)$/.exec(line)?.[1] ?? []);
    expect(suggested.length).toBeGreaterThanOrEqual(2);
    const added = winnow(['--project', dir, 'prompts', '--class', 'shirt', '--add', '2'], env);
    expect(added.stdout).toContain('Added 2 prompts to shirt.');
    expect(winnow(['--project', dir, 'prompts', '--class', 'shirt', '--add', '2'], env).stdout).toContain(
      'Added 0 prompts to shirt.',
    );
    const after = openProject(dir);
    expect(findClass(after.db, 'shirt')!.promptTemplates).toEqual([
      ...templates,
      ...suggested.slice(0, 2).map((p) => p.replace('shirt', '{label}')),
    ]);
    after.close();
  });

  it('adds to the templates stored when it writes, not to an earlier read of them', async () => {
    const dir = join(tempDir(), 'demo');
    const project = await createDemoProject(dir);
    const shirt = findClass(project.db, 'shirt')!;
    // Edited (another window, say) after the command read the class to make suggestions.
    updateClass(project.db, shirt.id, { promptTemplates: [...shirt.promptTemplates, 'a sketch of a {label}'] });
    expect(addPromptTemplates(project.db, shirt.id, ['a {label} on a hanger', 'a sketch of a {label}'])).toBe(1);
    expect(findClass(project.db, 'shirt')!.promptTemplates).toEqual([
      ...shirt.promptTemplates,
      'a sketch of a {label}',
      'a {label} on a hanger',
    ]);
    project.close();
  });
});
