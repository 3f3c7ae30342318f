import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MapPoints } from '../../src/shared/api.ts';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { defaultLoopParams, startLoop } from '../../src/main/pipeline/loop.ts';
import { serve } from '../../src/main/server/server.ts';
import { createEngine, dispatch, type Engine } from '../../src/main/service/winnowService.ts';
import { getInstance, listInstances } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

// The Map screen in Debian's Chromium (WebGL on SwiftShader: no GPU here), against `winnow serve`
// on the demo project after one round of the loop with tiny real ONNX models.
const OUTPUT = resolve(import.meta.dirname, '../output');
/** The first view's zoom: WHOLE_MAP in src/renderer/src/views/map/pointsGl.ts (a DOM module this config cannot import). */
const WHOLE_MAP = { zoom: 0.94 };
let project: Project;
let engine: Engine;
let server: Server;
let url: string;
let browser: Browser;
let points: MapPoints;

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = await createDemoProject(join(tempDir(), 'demo'));
  const resources = writeTinyResources(tempDir());
  const generator = await EmbeddedGenerator.load(join(resources, 'models/fmnist-ddpm'));
  const encoder = await EmbeddedEncoder.load(join(resources, 'models/fmnist-backbone'));
  await startLoop(
    project,
    { generator, encoder },
    {
      ...defaultLoopParams,
      rounds: 1,
      perRound: 60,
      steps: 2,
      epsilon: 2,
      acquisition: 'random',
      folds: 2,
      lambdaGrid: [1e-2],
    },
  );
  await Promise.all([generator.dispose(), encoder.dispose()]);
  engine = createEngine(project);
  const started = await serve({ engine, port: 0, host: '127.0.0.1' });
  server = started.server;
  url = started.url;
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
  // Laid out (and cached) here, so the page's request reads the cache and the test knows the points.
  points = await dispatch(engine.api, 'mapPoints', {});
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server.close(done));
  project.close();
});

async function openMap(width = 1440): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.getByRole('link', { name: 'Map' }).click();
  await page.getByRole('region', { name: 'Legend' }).waitFor();
  return { page, errors };
}

/** The canvas's pixels that differ from its background (its top-left corner's colour): drawn points. */
async function drawnPixels(page: Page): Promise<{ count: number; raw: Buffer }> {
  // Two animation frames: the last draw has reached the canvas.
  await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
  const png = await page.getByLabel('Embeddings map').screenshot();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (i: number) => [data[i], data[i + 1], data[i + 2]].join();
  const background = at(0);
  let count = 0;
  for (let i = 0; i < data.length; i += info.channels) if (at(i) !== background) count++;
  return { count, raw: data };
}

/** A point's place on the page: the first view centres the map, [-1, 1] spanning the shorter side (zoomed). */
async function screenOf(page: Page, i: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByLabel('Embeddings map').boundingBox())!;
  const unit = (Math.min(box.width, box.height) / 2) * WHOLE_MAP.zoom;
  return {
    x: box.x + box.width / 2 + (points.x[i] as number) * unit,
    y: box.y + box.height / 2 - (points.y[i] as number) * unit,
  };
}

describe('the Map screen', () => {
  it('draws every real image and instance with features, coloured by the picker', async () => {
    const { page, errors } = await openMap();
    const synthetic = listInstances(project.db).length;
    expect(points.id.length - points.real).toBe(synthetic);
    const legend = page.getByRole('region', { name: 'Legend' });
    expect(await legend.innerText()).toContain(`${points.real.toLocaleString('en-US')} real images`);
    expect(await legend.innerText()).toContain(`${synthetic} synthetic instances`);
    expect(await legend.innerText()).toContain(`${points.far.filter(Boolean).length} far from every real image`);
    // Coloured by label: the demo's class names are the legend.
    expect(await legend.innerText()).toContain('shirt');
    const byLabel = await drawnPixels(page);
    expect(byLabel.count).toBeGreaterThan(200);
    await page.screenshot({ path: join(OUTPUT, 'map.png') });

    await page.getByLabel('Colour by').selectOption('decision');
    await page.getByText('real image', { exact: true }).waitFor();
    expect(await legend.innerText()).toMatch(/pending[\s\S]*accepted[\s\S]*rejected/);
    const byDecision = await drawnPixels(page);
    expect(byDecision.count).toBeGreaterThan(200);
    expect(byDecision.raw.equals(byLabel.raw)).toBe(false);

    await page.getByLabel('Colour by').selectOption('score');
    expect(await legend.innerText()).toContain('(lowest)');
    await page.getByLabel('Colour by').selectOption('round');
    expect(await legend.innerText()).toContain('round 1');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a point when hovered, its thumbnail when clicked, and where a pan moved it', async () => {
    const { page } = await openMap();
    // A synthetic point with no other within 12 px on screen, so the click can only hit it.
    const box = (await page.getByLabel('Embeddings map').boundingBox())!;
    const half = (Math.min(box.width, box.height) / 2) * WHOLE_MAP.zoom;
    const lonely = points.id.findIndex((_, i) => {
      if (i < points.real) return false;
      return points.id.every(
        (_, j) =>
          j === i ||
          Math.hypot(
            ((points.x[i] as number) - (points.x[j] as number)) * half,
            ((points.y[i] as number) - (points.y[j] as number)) * half,
          ) > 12,
      );
    });
    expect(lonely).toBeGreaterThanOrEqual(points.real);
    const at = await screenOf(page, lonely);
    await page.mouse.move(at.x, at.y);
    const tooltip = page.getByRole('tooltip');
    await tooltip.waitFor();
    expect(await tooltip.innerText()).toContain(`Instance #${points.id[lonely]}`);
    await page.mouse.click(at.x, at.y);
    const panel = page.getByRole('region', { name: 'Point' });
    await panel.getByRole('heading', { name: `Instance #${points.id[lonely]}` }).waitFor();
    const image = panel.getByRole('img');
    await page.waitForFunction(
      (img) => {
        const { complete, naturalWidth } = img as unknown as { complete: boolean; naturalWidth: number };
        return complete && naturalWidth > 0;
      },
      await image.elementHandle(),
    );
    expect(await image.getAttribute('src')).toContain(points.imageHash[lonely]);

    // Dragging the map (from a place beside the point) pans it: the point is found where it moved to.
    const from = { x: at.x + (at.x > box.x + 100 ? -40 : 40), y: at.y };
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    // Six moves, each handled in its own frame (as a hand's are; moves sent at once may be merged
    // into one): the picture must follow the pointer however many moves a drag has.
    for (let step = 1; step <= 6; step++) {
      await page.mouse.move(from.x + 5 * step, from.y + (20 * step) / 6);
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    }
    // While dragging, the drawn picture is moved by the pointer's whole movement.
    expect(await page.getByLabel('Embeddings map').evaluate((c) => (c as HTMLCanvasElement).style.transform)).toBe(
      'translate(30px, 20px)',
    );
    await page.mouse.up();
    await page.mouse.move(at.x + 30, at.y + 20);
    await tooltip.filter({ hasText: `Instance #${points.id[lonely]}` }).waitFor();
    await page.close();
  });

  it('lasso-selects the left half, and Reject rejects exactly those instances in the project', async () => {
    const { page } = await openMap();
    const before = new Map(listInstances(project.db).map((i) => [i.id, i.override]));
    await page.getByRole('button', { name: 'Lasso' }).click();
    const box = (await page.getByLabel('Embeddings map').boundingBox())!;
    const corners = [
      [box.x + 5, box.y + 5],
      [box.x + box.width / 2, box.y + 5],
      [box.x + box.width / 2, box.y + box.height - 5],
      [box.x + 5, box.y + box.height - 5],
      [box.x + 5, box.y + 6],
    ] as const;
    await page.mouse.move(corners[0][0], corners[0][1]);
    await page.mouse.down();
    for (const [x, y] of corners.slice(1)) await page.mouse.move(x, y, { steps: 12 });
    await page.mouse.up();
    const count = page.getByLabel('Selection count');
    await page.waitForFunction(
      (el) => /^[1-9]\d* synthetic selected/.test((el as unknown as { innerText: string }).innerText),
      await count.elementHandle(),
    );
    const selected = Number((await count.innerText()).split(' ')[0]);
    // The instances inside that rectangle, as the layout places them.
    const places = await Promise.all(points.id.map((_, i) => screenOf(page, i)));
    const left = points.id.filter((_, i) => {
      const { x, y } = places[i]!;
      const inside = x > box.x + 5 && x < box.x + box.width / 2 && y > box.y + 6 && y < box.y + box.height - 5;
      return i >= points.real && inside;
    });
    expect(selected).toBe(left.length);
    expect(selected).toBeLessThan(points.id.length - points.real);
    await page.screenshot({ path: join(OUTPUT, 'map-lasso.png') });

    await page.getByRole('button', { name: 'Reject' }).click();
    await page.getByText(`Rejected ${selected}. Undo: U`).waitFor();
    const rejected = listInstances(project.db).filter(
      (i) => i.override === 'rejected' && before.get(i.id) !== 'rejected',
    );
    expect(rejected.map((i) => i.id).sort((a, b) => a - b)).toEqual([...left].sort((a, b) => a - b));
    expect(getInstance(project.db, left[0] as number)?.override).toBe('rejected');

    // Undo restores them.
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByText('Undone.').waitFor();
    expect(listInstances(project.db).every((i) => i.override === before.get(i.id))).toBe(true);
    await page.close();
  });

  it('is readable in dark mode and at 1,024 px', async () => {
    const { page } = await openMap(1024);
    await page.screenshot({ path: join(OUTPUT, 'map-1024.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByLabel('Colour by').selectOption('decision');
    const dark = await drawnPixels(page);
    expect(dark.count).toBeGreaterThan(200);
    // The canvas's background follows the page's.
    const corner = [dark.raw[0], dark.raw[1], dark.raw[2]];
    expect(Math.max(...(corner as number[]))).toBeLessThan(64);
    await page.screenshot({ path: join(OUTPUT, 'map-dark.png') });
    await page.close();
  });
});
