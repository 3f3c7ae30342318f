import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listClasses } from '../../src/main/store/classes.ts';
import { curate } from '../../src/main/store/curation.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { openProject } from '../../src/main/store/project.ts';
import { suggestionOf } from '../../src/main/store/suggestions.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { winnowCli as winnow } from '../helpers/winnowCli.ts';

/** The matrix as the test reads it from the store: "pseudo-label:suggested" → count. */
function expectedMatrix(dir: string): Map<string, number> {
  const project = openProject(dir);
  const names = new Map(listClasses(project.db).map((c) => [c.id, c.name]));
  const counts = new Map<string, number>();
  for (const i of listInstances(project.db)) {
    const s = suggestionOf(project.db, i.id);
    if (s === undefined) continue;
    const key = `${names.get(i.labelId)}:${names.get(s.labelId)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  project.close();
  return counts;
}

/** The printed table's cells: "row:column" → count (a '.' is 0, '*n' a disagreement of n). */
function printedMatrix(stdout: string): { counts: Map<string, number>; marked: Set<string> } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('pseudo-label \\ suggested'));
  const columns = lines[at]!.split(/\s{2,}/).slice(1);
  const counts = new Map<string, number>();
  const marked = new Set<string>();
  for (const line of lines.slice(at + 1)) {
    if (line.trim() === '') break;
    const [row, ...cells] = line.split(/\s{2,}/);
    cells.forEach((cell, k) => {
      const key = `${row}:${columns[k]}`;
      if (cell.startsWith('*')) marked.add(key);
      if (cell !== '.') counts.set(key, Number(cell.replace('*', '')));
    });
  }
  return { counts, marked };
}

describe('winnow issues', () => {
  it('prints the pseudo-label × suggested-label matrix and the surest disagreements, and follows a relabel', async () => {
    const work = tempDir();
    const env = { WINNOW_HOME: join(work, 'home') };
    const dir = join(work, 'p');
    await makeImageFolder(join(work, 'train'), { bun: 6, coat: 6, dress: 6 });
    await makeImageFolder(join(work, 'val'), { bun: 4, coat: 4, dress: 4 }, 50);
    await makeImageFolder(join(work, 'synthetic'), { bun: 6, coat: 6, dress: 6 }, 100);
    expect(winnow(['init', dir], env).code).toBe(0);
    winnow(['import', 'real', join(work, 'train'), '--split', 'train'], env);
    winnow(['import', 'real', join(work, 'val'), '--split', 'val'], env);
    winnow(['import', 'synthetic', join(work, 'synthetic')], env);

    const before = winnow(['issues'], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/0 scored instances, 0 with .*\(18 not scored yet\)\.\nScore the project first/);

    expect(winnow(['score', '--neighbours', '3'], env).code).toBe(0);
    const printed = winnow(['issues', '--top', '3'], env);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const expected = expectedMatrix(dir);
    const { counts, marked } = printedMatrix(printed.stdout);
    expect(counts).toEqual(expected);
    const disagreements = [...expected].filter(([key]) => key.split(':')[0] !== key.split(':')[1]);
    expect([...marked].sort()).toEqual(disagreements.map(([key]) => key).sort());
    const total = disagreements.reduce((n, [, c]) => n + c, 0);
    // Random-pixel images: the head disagrees with some labels, which makes the listing meaningful.
    expect(total).toBeGreaterThan(0);
    expect(printed.stdout).toContain(
      `18 scored instances, ${total} with a suggested label other than their pseudo-label.`,
    );

    // The listed disagreements are the surest ones, in order, as the store has them.
    const json = JSON.parse(winnow(['issues', '--json', '--top', '100'], env).stdout) as {
      disagreements: number;
      top: { id: number; labelId: number; suggestion: { labelId: number; probability: number } }[];
    };
    expect(json.disagreements).toBe(total);
    expect(json.top.length).toBe(total);
    const probabilities = json.top.map((t) => t.suggestion.probability);
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));
    const listed = printed.stdout.split('\n').filter((l) => /^ {2}#\d+ /.test(l));
    expect(listed.length).toBe(Math.min(3, total));
    expect(listed[0]).toMatch(new RegExp(`^  #${json.top[0]!.id} .* \\(p = ${probabilities[0]!.toFixed(3)}\\)$`));

    // A relabel to the suggestion moves the instance onto the diagonal.
    const project = openProject(dir);
    curate(project.db, { instanceIds: [json.top[0]!.id], action: 'relabel', labelId: json.top[0]!.suggestion.labelId });
    project.close();
    expect(winnow(['issues'], env).stdout).toContain(`${total - 1} with a suggested label other than`);
    expect(winnow(['issues', '--top', 'x'], env).code).toBe(2);
  });
});
