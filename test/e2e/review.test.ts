/// <reference lib="dom" />
// (The page functions below run in Chromium: they need the DOM's types.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { getInstance } from '../../src/main/store/instances.ts';
import { E2E_OUTPUT as OUTPUT, useServedDemoInChromium } from '../helpers/servedDemo.ts';

// The review screen in Debian's Chromium against `winnow serve` on the demo project after one
// round of the loop with tiny real ONNX models (the setup of workstation.test.ts).

// 200 instances over ten classes: enough tiles per class to fill rows and pick several.
const demo = useServedDemoInChromium(200);

async function openReview(width = 1440, dark = false): Promise<{ page: Page; errors: string[] }> {
  const page = await demo.browser.newPage({ viewport: { width, height: 900 } });
  if (dark) await page.emulateMedia({ colorScheme: 'dark' });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(demo.url);
  await page.getByRole('link', { name: 'Review' }).click();
  await grid(page).locator('.tile').first().waitFor();
  await page.waitForLoadState('networkidle');
  return { page, errors };
}

const grid = (page: Page) => page.getByLabel('All instances');
const ids = (tiles: ReturnType<Page['locator']>) =>
  tiles.evaluateAll((all) => all.map((t) => Number(t.getAttribute('data-id'))));
/** The class the review opens on: the first with synthetic instances. */
const firstClass = () =>
  demo.project.db
    .prepare<[], { id: number; name: string }>(
      'SELECT c.id, c.name FROM classes c WHERE EXISTS (SELECT 1 FROM instances i WHERE i.label_id = c.id) ORDER BY c.id LIMIT 1',
    )
    .get()!;
const override = (id: number) => getInstance(demo.project.db, id)?.override ?? null;

/** The viewer's image: its natural and shown size, its rendering and its place. */
const viewerImage = (page: Page) =>
  page.locator('.viewer-image').evaluate((img: HTMLImageElement) => ({
    natural: img.naturalWidth,
    width: img.getBoundingClientRect().width,
    left: img.getBoundingClientRect().left,
    rendering: getComputedStyle(img).imageRendering,
    pane: (img.parentElement as HTMLElement).getBoundingClientRect(),
  }));

/** WCAG contrast of the first element of each selector against the background it is drawn on. */
function contrasts(page: Page, selectors: string[]): Promise<Record<string, number>> {
  return page.evaluate((all) => {
    const luminance = (color: string) => {
      const [r = 0, g = 0, b = 0] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
        const c = Number(v) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (start: Element): string => {
      for (let e: Element | null = start; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
      }
      return 'rgb(255, 255, 255)';
    };
    return Object.fromEntries(
      all.map((selector) => {
        const e = document.querySelector(selector);
        if (!e) return [selector, 0];
        const [hi, lo] = [luminance(getComputedStyle(e).color), luminance(background(e))].sort((x, y) => y - x);
        return [selector, ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05)];
      }),
    );
  }, selectors);
}

describe('the review screen in Chromium', () => {
  it('viewer: double-click or Enter opens a large, whole-pixel view with the prompt, every score, the history and the nearest real images; arrows and J/K step the grid order; Esc closes', async () => {
    const { page, errors } = await openReview();
    const order = await ids(grid(page).locator('.tile'));
    await grid(page).locator('.tile').first().dblclick();
    const viewer = page.getByRole('dialog', { name: 'Instance viewer' });
    await viewer.getByRole('heading', { name: `Instance #${order[0]}` }).waitFor();
    await page.locator('.viewer-image').evaluate((img: HTMLImageElement) => img.decode());
    await expect.poll(async () => (await viewerImage(page)).width).toBeGreaterThan(28);
    const shown = await viewerImage(page);
    // A 28-px image at the largest whole scale that fits the pane, pixelated.
    expect(shown.natural).toBe(28);
    const scale = shown.width / 28;
    expect(Number.isInteger(scale)).toBe(true);
    expect(scale).toBe(Math.floor(Math.min(shown.pane.width, shown.pane.height) / 28));
    expect(shown.rendering).toBe('pixelated');
    expect(await viewer.getByLabel('Scale').innerText()).toBe(`${scale}×`);

    // Beside it: its prompt, the latest value of each of its score kinds, the chart, the nearest real images.
    const detail = page.getByLabel('Viewer details');
    const id = order[0] as number;
    await detail.getByText(getInstance(demo.project.db, id)!.prompt, { exact: true }).waitFor();
    const kinds = demo.project.db
      .prepare<[number], { kind: string }>('SELECT DISTINCT kind FROM scores WHERE instance_id = ?')
      .all(id);
    expect(await detail.getByLabel('Latest scores').locator('tr').count()).toBe(kinds.length);
    expect(kinds.length).toBeGreaterThan(1);
    expect(await detail.locator('dd').nth(2).innerText()).toBe('1'); // round, counted from 1
    await detail.getByLabel('Nearest real images').locator('figure').nth(5).waitFor();
    expect(await detail.locator('canvas').count()).toBe(1);
    await page.screenshot({ path: join(OUTPUT, 'review-viewer.png') });

    // Zoom in by one whole step (key and wheel), out again, and pan by dragging.
    await page.keyboard.press('+');
    expect((await viewerImage(page)).width).toBe((scale + 1) * 28);
    await page.mouse.move(shown.pane.x + 50, shown.pane.y + 50);
    await page.mouse.wheel(0, 100);
    expect((await viewerImage(page)).width).toBe(scale * 28);
    const before = (await viewerImage(page)).left;
    await page.mouse.down();
    await page.mouse.move(shown.pane.x + 90, shown.pane.y + 50, { steps: 4 });
    await page.mouse.up();
    expect((await viewerImage(page)).left).toBe(before + 40);
    await page.keyboard.press('0');
    expect((await viewerImage(page)).left).toBe(before);

    // Right and J go forward through the grid's order; Left and K back.
    await page.keyboard.press('ArrowRight');
    await viewer.getByRole('heading', { name: `Instance #${order[1]}` }).waitFor();
    await page.keyboard.press('j');
    await viewer.getByRole('heading', { name: `Instance #${order[2]}` }).waitFor();
    await page.keyboard.press('k');
    await viewer.getByRole('heading', { name: `Instance #${order[1]}` }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await viewer.getByRole('heading', { name: `Instance #${order[0]}` }).waitFor();
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });

    // Enter on a focused tile opens that one.
    await grid(page).locator(`.tile[data-id="${order[3]}"]`).focus();
    await page.keyboard.press('Enter');
    await viewer.getByRole('heading', { name: `Instance #${order[3]}` }).waitFor();
    // In the viewer, A accepts the image shown.
    await page.keyboard.press('a');
    await expect.poll(() => override(order[3] as number)).toBe('accepted');
    await page.keyboard.press('u');
    await expect.poll(() => override(order[3] as number)).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('viewer screenshots in dark mode and at 1,024 px, readable', async () => {
    for (const [name, width, dark] of [
      ['review-viewer-dark.png', 1440, true],
      ['review-viewer-1024.png', 1024, false],
    ] as const) {
      const { page, errors } = await openReview(width, dark);
      await grid(page).locator('.tile').first().dblclick();
      await page.getByLabel('Viewer details').getByLabel('Nearest real images').locator('figure').first().waitFor();
      await page.locator('.viewer-image').evaluate((img: HTMLImageElement) => img.decode());
      // Text against its background: WCAG contrast of at least 4.5 for the side panel and the key hints.
      const contrast = await contrasts(page, [
        '.viewer-side dd',
        '.viewer-side dt',
        '.viewer-bar .keys',
        '.viewer-bar h2',
      ]);
      for (const c of Object.values(contrast)) expect(c).toBeGreaterThanOrEqual(4.5);
      if (dark)
        expect(await page.locator('.viewer').evaluate((e) => getComputedStyle(e).backgroundColor)).toBe(
          'rgb(22, 24, 29)',
        );
      // Nothing wider than the window.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(OUTPUT, name) });
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it('thumbnails: a 28-px image is served at 84 px, each source pixel a 3×3 block, and shown at that size', async () => {
    const { page, errors } = await openReview();
    const tile = grid(page).locator('.tile').first();
    const id = Number(await tile.getAttribute('data-id'));
    const img = tile.locator('img');
    await img.evaluate((i: HTMLImageElement) => i.decode());
    const size = await img.evaluate((i: HTMLImageElement) => ({
      natural: i.naturalWidth,
      shown: i.getBoundingClientRect().width,
    }));
    expect(size).toEqual({ natural: 84, shown: 84 });
    const src = (await img.getAttribute('src'))!;
    const served = await page.evaluate(async (s) => [...new Uint8Array(await (await fetch(s)).arrayBuffer())], src);
    const thumb = await sharp(Buffer.from(served)).greyscale().raw().toBuffer({ resolveWithObject: true });
    const hash = getInstance(demo.project.db, id)!.imageHash;
    const source = await sharp(readFileSync(join(demo.project.dir, 'images', hash.slice(0, 2), `${hash}.png`)))
      .greyscale()
      .raw()
      .toBuffer();
    expect([thumb.info.width, thumb.info.height]).toEqual([84, 84]);
    for (let y = 0; y < 84; y++)
      for (let x = 0; x < 84; x++)
        if (thumb.data[y * 84 + x] !== source[Math.floor(y / 3) * 28 + Math.floor(x / 3)])
          throw new Error(`thumbnail pixel ${x},${y} is not source pixel ${Math.floor(x / 3)},${Math.floor(y / 3)}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters apply to the best and worst strips too; when nothing matches the grid says so and can clear them', async () => {
    const { page, errors } = await openReview();
    const best = page.getByLabel('Best').locator('.tile');
    const worst = page.getByLabel('Worst').locator('.tile');
    const bestScores = (await best.locator('.score').allInnerTexts()).map(Number);
    // A floor between the best and the worst: the strips keep only what the grid keeps.
    // Two decimals, so the field's value is also valid for a step of 0.01.
    const floor = Math.ceil(bestScores[Math.floor(bestScores.length / 2)]! * 100) / 100;
    await page.getByLabel('Minimum score').fill(String(floor));
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(async () => (await worst.locator('.score').allInnerTexts()).map(Number).filter((s) => s < floor - 0.001))
      .toEqual([]);
    expect(await worst.count()).toBeGreaterThan(0);
    // Status too: rejected only.
    await page.getByLabel('Minimum score').fill('');
    await page.getByRole('combobox', { name: 'Status' }).selectOption('rejected');
    const decision = (id: number) =>
      getInstance(demo.project.db, id)?.override ?? getInstance(demo.project.db, id)?.status;
    const stripDecisions = async () => new Set([...(await ids(best)), ...(await ids(worst))].map(decision));
    await expect.poll(stripDecisions).toEqual(new Set(['rejected']));
    // A round that never ran: nothing anywhere, and the grid says why.
    await page.getByLabel('Round').fill('9');
    await page.getByRole('button', { name: 'Filter' }).click();
    await grid(page).getByText('No instances match these filters —').waitFor();
    expect([await best.count(), await worst.count(), await grid(page).locator('.tile').count()]).toEqual([0, 0, 0]);
    expect(await grid(page).getByText('No synthetic instances').count()).toBe(0);
    await grid(page).getByRole('button', { name: 'clear filters' }).click();
    await best.first().waitFor();
    expect(await page.getByLabel('Round').inputValue()).toBe('');
    expect(await page.getByRole('combobox', { name: 'Status' }).inputValue()).toBe('');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keyboard: letters type into fields, ? lists every shortcut, Ctrl+A selects all, O shows the selection only, Esc clears it', async () => {
    const { page, errors } = await openReview();
    const tiles = grid(page).locator('.tile');
    const first = await ids(tiles);
    await tiles.first().click();
    // Typing into the prompt filter with a tile selected: letters are text, not accept/reject/clear.
    await page.getByLabel('Prompt contains').fill('');
    await page.getByLabel('Prompt contains').pressSequentially('arc');
    expect(await page.getByLabel('Prompt contains').inputValue()).toBe('arc');
    expect(override(first[0] as number)).toBeNull();
    await page.getByLabel('Prompt contains').fill('');
    await page.getByRole('heading', { name: 'Review' }).click(); // focus leaves the field

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    // Every row of the table (test/renderer/reviewKeys.test.ts checks it row by row), in two groups.
    expect(await help.locator('tbody tr').count()).toBeGreaterThanOrEqual(16);
    await help.getByRole('row', { name: /Ctrl\+Shift\+Z.*Redo what was undone last/ }).waitFor();
    await help
      .getByRole('table', { name: 'Viewer shortcuts' })
      .getByText('Next instance in the current order')
      .waitFor();
    await page.screenshot({ path: join(OUTPUT, 'review-shortcuts.png') });
    // Behind the help, letters do nothing (the first tile is still selected).
    await page.keyboard.press('a');
    await page.waitForLoadState('networkidle');
    expect(override(first[0] as number)).toBeNull();
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    // Enter on a button is the button's: the toolbar's Filter button filters, no viewer opens.
    await page.getByRole('button', { name: 'Filter' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForLoadState('networkidle');
    expect(await page.getByRole('dialog', { name: 'Instance viewer' }).count()).toBe(0);

    const { id: classId } = firstClass();
    const inClass = demo.project.db
      .prepare<[number], { n: number }>('SELECT count(*) AS n FROM instances WHERE label_id = ?')
      .get(classId)!.n;
    await page.keyboard.press('Control+a');
    await page.getByText(`Show selection only (${inClass})`).waitFor();
    expect(await grid(page).locator('.tile.selected').count()).toBe(await tiles.count());
    await page.keyboard.press('Escape');
    await page.getByText('Show selection only (0)').waitFor();

    await tiles.nth(1).click();
    await tiles.nth(4).click({ modifiers: ['Control'] });
    await page.keyboard.press('o');
    await expect.poll(() => ids(tiles)).toEqual([first[1], first[4]]);
    expect(await page.getByLabel(/Show selection only/).isChecked()).toBe(true);
    await page.keyboard.press('o');
    await expect.poll(async () => (await ids(tiles)).length).toBe(first.length);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("undo acts on this class's latest action (not another class's), says what it undid, and redoes from the toast, Shift+U or Ctrl+Shift+Z", async () => {
    const { page, errors } = await openReview();
    const { id: classId, name } = firstClass();
    const tiles = grid(page).locator('.tile');
    const three = (await ids(tiles)).slice(5, 8);
    await tiles.nth(5).click();
    await tiles.nth(6).click({ modifiers: ['Control'] });
    await tiles.nth(7).click({ modifiers: ['Control'] });
    await page.keyboard.press('a');
    await page.getByText('Accepted 3').waitFor();
    // Then a rejection on another class's screen.
    const other = demo.project.db
      .prepare<[number], { id: number }>('SELECT label_id AS id FROM instances WHERE label_id <> ? LIMIT 1')
      .get(classId)!.id;
    await page.getByRole('combobox', { name: 'Class' }).selectOption(String(other));
    await page.getByLabel('Best').locator('.tile').first().waitFor();
    await page.waitForLoadState('networkidle');
    const otherTile = grid(page).locator('.tile').first();
    const rejected = Number(await otherTile.getAttribute('data-id'));
    await otherTile.click();
    await page.keyboard.press('r');
    await page.getByText('Rejected 1').waitFor();
    // Back on the first class, U undoes the accept of three, not the later rejection.
    await page.getByRole('combobox', { name: 'Class' }).selectOption(String(classId));
    await page.waitForLoadState('networkidle');
    await page.keyboard.press('u');
    const toast = page.locator('.toast');
    await toast.getByText(`Undid: accept of 3 ${name}s`).waitFor();
    expect(three.map(override)).toEqual([null, null, null]);
    expect(override(rejected)).toBe('rejected');
    await page.screenshot({ path: join(OUTPUT, 'review-undo-toast.png') });
    await toast.getByRole('button', { name: 'Redo' }).click();
    await toast.getByText(`Redid: accept of 3 ${name}s`).waitFor();
    expect(three.map(override)).toEqual(['accepted', 'accepted', 'accepted']);
    await page.keyboard.press('u');
    await toast.getByText('Undid: accept').waitFor();
    await page.keyboard.press('Shift+U');
    await toast.getByText('Redid: accept').waitFor();
    expect(three.map(override)).toEqual(['accepted', 'accepted', 'accepted']);
    await page.keyboard.press('Control+z');
    await toast.getByText('Undid: accept').waitFor();
    await page.keyboard.press('Control+Shift+Z');
    await toast.getByText('Redid: accept').waitFor();
    expect(three.map(override)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(override(rejected)).toBe('rejected');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('relabel: the dropdown resets, so the same class can be chosen twice in a row', async () => {
    const { page, errors } = await openReview();
    const tiles = grid(page).locator('.tile');
    const [a, b] = (await ids(tiles)).slice(-2) as [number, number];
    const bag = demo.project.db.prepare<[], { id: number }>("SELECT id FROM classes WHERE name = 'bag'").get()!.id;
    const relabel = page.getByLabel('Detail').getByLabel('Relabel');
    for (const id of [a, b]) {
      await grid(page).locator(`.tile[data-id="${id}"]`).click();
      await page.getByLabel('Detail').getByText(`Instance #${id}`).waitFor();
      await relabel.selectOption({ label: 'bag' });
      await expect.poll(() => getInstance(demo.project.db, id)?.labelId).toBe(bag);
      expect(await relabel.inputValue()).toBe('');
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the grid has as many columns as fit: at 1,024 px nothing is clipped; dark mode is readable', async () => {
    for (const [width, dark] of [
      [1024, false],
      [1440, true],
    ] as const) {
      const { page, errors } = await openReview(width, dark);
      const box = await grid(page).evaluate((g) => {
        const r = g.getBoundingClientRect();
        return { right: r.left + g.clientWidth, width: g.clientWidth };
      });
      const rights = await grid(page)
        .locator('.row')
        .first()
        .locator('.tile')
        .evaluateAll((all) => all.map((t) => t.getBoundingClientRect().right));
      // Every tile of a row inside the grid, and no room left for another one.
      expect(Math.max(...rights)).toBeLessThanOrEqual(box.right);
      expect(box.right - Math.max(...rights)).toBeLessThan(104 + 8);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await grid(page).locator('.tile').first().click();
      await page.getByLabel('Detail').locator('canvas').waitFor();
      if (dark) {
        const contrast = await contrasts(page, [
          '.toolbar .keys',
          '.strip h2',
          '.grid .tile .score',
          '.detail dt',
          '.detail dd',
          '.toolbar select',
          '.filters input',
        ]);
        for (const [selector, c] of Object.entries(contrast)) expect([selector, c >= 4.5]).toEqual([selector, true]);
      }
      await page.screenshot({ path: join(OUTPUT, dark ? 'review-dark.png' : 'review-1024.png'), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    }
  });
});
