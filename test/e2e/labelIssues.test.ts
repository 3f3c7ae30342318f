import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { listClasses } from '../../src/main/store/classes.ts';
import { actionHistory } from '../../src/main/store/curation.ts';
import { getInstance, listInstances } from '../../src/main/store/instances.ts';
import { suggestionOf } from '../../src/main/store/suggestions.ts';
import { E2E_OUTPUT as OUTPUT, useServedDemoInChromium } from '../helpers/servedDemo.ts';

// The built renderer in Debian's Chromium against `winnow serve` on the demo project after one round
// of the loop with tiny real ONNX models: the loop's scoring records the suggested labels.

const demo = useServedDemoInChromium(60);

/** The matrix as the store holds it: "pseudo-label name:suggested name" → count. */
function storedMatrix(): Map<string, number> {
  const name = new Map(listClasses(demo.project.db).map((c) => [c.id, c.name]));
  const counts = new Map<string, number>();
  for (const i of listInstances(demo.project.db)) {
    const s = suggestionOf(demo.project.db, i.id);
    if (!s) continue;
    const key = `${name.get(i.labelId)}:${name.get(s.labelId)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The matrix as the page shows it, from its cell buttons' labels ("3 labelled shirt, suggested coat"). */
async function shownMatrix(page: Page): Promise<Map<string, number>> {
  const labels = await page
    .getByRole('table', { name: 'Label issues matrix' })
    .getByRole('button')
    .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label') ?? ''));
  return new Map(
    labels.map((label) => {
      const [, n, row, column] = label.match(/^(\d+) labelled (.+), suggested (.+)$/)!;
      return [`${row}:${column}`, Number(n)];
    }),
  );
}

describe('the label issues screen in Chromium', () => {
  it('shows the matrix, lists a cell, applies the suggested label with L and recounts', async () => {
    const page = await demo.browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await page.getByRole('link', { name: 'Label issues' }).click();
    const matrix = page.getByRole('table', { name: 'Label issues matrix' });
    await matrix.waitFor();

    const before = storedMatrix();
    expect(await shownMatrix(page)).toEqual(before);
    const disagreements = [...before].filter(([key]) => key.split(':')[0] !== key.split(':')[1]);
    expect(disagreements.length).toBeGreaterThan(0);
    const total = disagreements.reduce((n, [, c]) => n + c, 0);
    await expect
      .poll(() => page.getByLabel('Summary').innerText())
      .toMatch(new RegExp(`^60 scored instances; .* for ${total}\\b`));
    // Off the diagonal a non-empty cell is a highlighted disagreement; the diagonal is muted.
    expect(await matrix.locator('td.disagreement').count()).toBe(disagreements.length);
    expect(await matrix.locator('td.diagonal').count()).toBe(listClasses(demo.project.db).length);
    expect(await matrix.locator('td.diagonal.disagreement').count()).toBe(0);

    const [key, count] = disagreements.sort((a, b) => b[1] - a[1])[0]!;
    const [row, column] = key.split(':') as [string, string];
    await matrix.getByRole('button', { name: `${count} labelled ${row}, suggested ${column}` }).click();
    const cell = page.getByLabel('Cell instances');
    await cell.getByRole('heading', { name: `Labelled ${row}, suggested ${column}: ${count}` }).waitFor();
    const tiles = cell.locator('.tile');
    await expect.poll(() => tiles.count()).toBe(count);
    const ids = await tiles.evaluateAll((t) => t.map((e) => Number(e.getAttribute('data-id'))));
    const probabilities = (await cell.locator('figcaption').allInnerTexts()).map((t) => Number(t.slice(4)));
    expect(probabilities).toEqual(ids.map((id) => Number(suggestionOf(demo.project.db, id)!.probability.toFixed(3))));
    expect(probabilities).toEqual([...probabilities].sort((a, b) => b - a));

    const first = ids[0]!;
    const suggested = suggestionOf(demo.project.db, first)!.labelId;
    await tiles.first().click();
    await page.screenshot({ path: join(OUTPUT, 'issues.png'), fullPage: true });
    // L typed in a form control is typing, not the shortcut.
    await page.getByLabel('Status').focus();
    await page.keyboard.press('l');
    await page.waitForTimeout(300);
    expect(getInstance(demo.project.db, first)!.labelId).not.toBe(suggested);

    await tiles.first().focus();
    await page.keyboard.press('l');
    await page.getByRole('status').getByText('Relabelled 1 instance to the suggested label.').waitFor();
    expect(getInstance(demo.project.db, first)!.labelId).toBe(suggested);
    expect(actionHistory(demo.project.db, first).map((a) => a.action)).toEqual(['relabel']);
    // The counts follow: the cell lost the instance, the suggested label's diagonal gained it.
    const after = storedMatrix();
    expect(after.get(key) ?? 0).toBe(count - 1);
    await expect.poll(() => shownMatrix(page)).toEqual(after);
    await expect.poll(() => tiles.count()).toBe(count - 1);
    expect(await tiles.evaluateAll((t) => t.map((e) => Number(e.getAttribute('data-id'))))).not.toContain(first);

    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(OUTPUT, 'issues-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.screenshot({ path: join(OUTPUT, 'issues-1024.png'), fullPage: true });

    // U undoes the relabel, and the matrix is as it was.
    await page.keyboard.press('u');
    await expect.poll(() => shownMatrix(page)).toEqual(before);
    expect(getInstance(demo.project.db, first)!.labelId).not.toBe(suggested);
    expect(errors).toEqual([]);
    await page.close();
  });
});
