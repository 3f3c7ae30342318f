/// <reference lib="dom" />
// (The page functions below run in Chromium: they need the DOM's types.)
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { getInstance } from '../../src/main/store/instances.ts';
import { noteOf, tagsOfInstance } from '../../src/main/store/tags.ts';
import { listSavedViews } from '../../src/main/store/savedViews.ts';
import { E2E_OUTPUT as OUTPUT, useServedDemoInChromium } from '../helpers/servedDemo.ts';

// Curating like a team on the review screen, in Debian's Chromium against `winnow serve` on the
// demo project after one round of the loop: tag a selection with the keyboard, write a note, save
// a view, reload the page, find the view and apply it to the strips and the grid.

// 100 instances over ten classes: about ten a class, enough to tell a filtered grid from a full one.
const demo = useServedDemoInChromium(100);

const grid = (page: Page) => page.getByLabel('All instances');
const ids = (tiles: ReturnType<Page['locator']>) =>
  tiles.evaluateAll((all) => all.map((t) => Number(t.getAttribute('data-id'))));

async function showReview(page: Page) {
  await page.getByRole('link', { name: 'Review' }).click();
  await grid(page).locator('.tile').first().waitFor();
  await page.waitForLoadState('networkidle');
}

describe('tags, notes and saved views on the review screen', () => {
  it('tags a selection with T, writes a note, saves a view that survives a reload and filters the strips and the grid', async () => {
    const page = await demo.browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await showReview(page);
    const tiles = grid(page).locator('.tile');
    const all = await ids(tiles);
    expect(all.length).toBeGreaterThan(3);
    const [a, b] = all as [number, number];
    await tiles.nth(0).click();
    await tiles.nth(1).click({ modifiers: ['Control'] });

    // T opens the tag input with the focus in it: "rare" typed there accepts and rejects nothing.
    await page.keyboard.press('t');
    const input = page.getByRole('dialog', { name: 'Tag' }).getByLabel('Tag to add');
    await expect.poll(() => input.evaluate((e) => e === document.activeElement)).toBe(true);
    await page.keyboard.type('rare ');
    await page.keyboard.press('Enter');
    await page.getByText('Tagged 2 "rare"').waitFor();
    expect([a, b].map((id) => tagsOfInstance(demo.project.db, id))).toEqual([['rare'], ['rare']]);
    expect([a, b].map((id) => getInstance(demo.project.db, id)?.override)).toEqual([null, null]);
    // The tiles show it; the ? overlay lists T from the same table the key handler reads.
    await grid(page).locator(`.tile[data-id="${a}"] .tags`).getByText('rare').waitFor();
    await page.keyboard.press('?');
    await page
      .getByRole('dialog', { name: 'Keyboard shortcuts' })
      .getByRole('row', { name: /^T Tag the selection/ })
      .waitFor();
    await page.keyboard.press('Escape');

    // The note of the instance in the detail panel (the last one clicked).
    const detail = page.getByRole('complementary', { name: 'Detail' });
    await detail.getByRole('heading', { name: `Instance #${b}` }).waitFor();
    await detail.getByLabel('Tags', { exact: true }).getByText('rare').waitFor();
    await detail.getByRole('textbox', { name: 'Note' }).fill('collar looks odd');
    await detail.getByRole('button', { name: 'Save note' }).click();
    await page.getByText('Note saved.').waitFor();
    expect(noteOf(demo.project.db, b)?.text).toBe('collar looks odd');

    // Filter by the tag, lowest first, and save that as a view.
    await page.getByLabel('Tag filter').fill('rare');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(async () => (await ids(tiles)).sort()).toEqual([a, b].sort());
    await page.getByRole('combobox', { name: 'Sort' }).selectOption('worst');
    await page.getByRole('button', { name: 'Save view…' }).click();
    await page.getByLabel('View name').fill('rare ones');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved the view "rare ones".').waitFor();
    expect(listSavedViews(demo.project.db).map((v) => [v.name, v.view])).toEqual([
      ['rare ones', { order: 'worst', kind: 'quality', tag: 'rare' }],
    ]);

    // After a reload the filters are gone and the view is in the dropdown; picking it filters again.
    await page.reload();
    await showReview(page);
    await expect.poll(async () => (await ids(tiles)).length).toBe(all.length);
    expect(await page.getByLabel('Tag filter').inputValue()).toBe('');
    const views = page.getByRole('combobox', { name: 'Saved view' });
    await views.selectOption({ label: 'rare ones' });
    await expect.poll(async () => (await ids(tiles)).sort()).toEqual([a, b].sort());
    const strips = page.locator('.extremes .tile');
    // The strips hold the scored ones of the two, and nothing else.
    expect((await ids(strips)).every((id) => id === a || id === b)).toBe(true);
    expect(await page.getByLabel('Tag filter').inputValue()).toBe('rare');
    expect(await page.getByRole('combobox', { name: 'Sort' }).inputValue()).toBe('worst');
    await page.screenshot({ path: join(OUTPUT, 'review-tags-view.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('on the Map, the same view leaves only what it keeps selectable, and the lasso selection can be tagged', async () => {
    const page = await demo.browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(demo.url);
    await page.getByRole('link', { name: 'Map' }).click();
    // The layout is computed on the first visit (UMAP over every real image and instance).
    await page.getByRole('region', { name: 'Legend' }).waitFor({ timeout: 240_000 });
    const rare = demo.project.db
      .prepare<[], { id: number }>("SELECT instance_id AS id FROM instance_tags WHERE tag = 'rare' ORDER BY 1")
      .all()
      .map((r) => r.id);
    expect(rare).toHaveLength(2);
    await page.getByRole('combobox', { name: 'Saved view' }).selectOption({ label: 'rare ones' });
    await page.getByText('the view "rare ones" keeps 2 points').waitFor();
    await page.getByRole('region', { name: 'Legend' }).getByText('not in the view "rare ones"').waitFor();
    // A lasso round the whole map selects the two and nothing else (no real image either).
    await page.getByRole('button', { name: 'Lasso' }).click();
    const box = (await page.getByLabel('Embeddings map').boundingBox())!;
    const corners = [
      [box.x + 2, box.y + 2],
      [box.x + box.width - 2, box.y + 2],
      [box.x + box.width - 2, box.y + box.height - 2],
      [box.x + 2, box.y + box.height - 2],
      [box.x + 2, box.y + 3],
    ] as const;
    await page.mouse.move(corners[0][0], corners[0][1]);
    await page.mouse.down();
    for (const [x, y] of corners.slice(1)) await page.mouse.move(x, y, { steps: 12 });
    await page.mouse.up();
    await expect.poll(() => page.getByLabel('Selection count').innerText()).toBe('2 synthetic selected');
    await page.screenshot({ path: join(OUTPUT, 'map-saved-view.png') });
    await page.getByRole('button', { name: 'Tag…' }).click();
    await page.getByLabel('Tag to add').fill('seen on map');
    await page.keyboard.press('Enter');
    await page.getByText('Tagged 2 "seen on map"').waitFor();
    expect(rare.map((id) => tagsOfInstance(demo.project.db, id))).toEqual([
      ['rare', 'seen on map'],
      ['rare', 'seen on map'],
    ]);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
