import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEncoder } from '../../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../../src/main/models/embeddedGenerator.ts';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { generateInstances } from '../../src/main/pipeline/generate.ts';
import { defaultScoreOptions, scoreProject } from '../../src/main/pipeline/scoreSet.ts';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { findClass, getClass } from '../../src/main/store/classes.ts';
import { writeTransaction } from '../../src/main/store/database.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import type { Project } from '../../src/main/store/project.ts';
import { recordSuggestions, suggestionOf } from '../../src/main/store/suggestions.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

// The built renderer in Debian's Chromium against `winnow serve` on the demo project with 12 shirts
// and 6 coats from the tiny generator, scored; 8 shirts are then suggested t-shirt and 1 coat, so the
// shirts' disagreements gather in t-shirt, and the coats' 4 spread over shirt and pullover. The engine applies the remedy with the tiny models
// (WINNOW_RESOURCES points at them).
const OUTPUT = resolve(import.meta.dirname, '../output');
let project: Project;
let server: Server;
let url: string;
let browser: Browser;
let shirt: number;

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  const resources = writeTinyResources(tempDir());
  process.env.WINNOW_RESOURCES = resources;
  project = await createDemoProject(join(tempDir(), 'demo'));
  const generator = await EmbeddedGenerator.load(join(resources, 'models/fmnist-ddpm'));
  const encoder = await EmbeddedEncoder.load(join(resources, 'models/fmnist-backbone'));
  const made = await generateInstances(project, generator, { className: 'shirt', count: 12, seed: 3 });
  const coats = await generateInstances(project, generator, { className: 'coat', count: 6, seed: 30 });
  await scoreProject(project, encoder, { ...defaultScoreOptions, head: { folds: 2, lambdaGrid: [1e-2] } });
  await Promise.all([generator.dispose(), encoder.dispose()]);
  shirt = findClass(project.db, 'shirt')!.id;
  const tshirt = findClass(project.db, 't-shirt')!.id;
  const coat = findClass(project.db, 'coat')!.id;
  const pullover = findClass(project.db, 'pullover')!.id;
  const suggest = (ids: readonly number[], labelOf: (k: number) => number) =>
    ids.map((instanceId, k) => ({ instanceId, labelId: labelOf(k), probability: 0.7, runId: null, roundIndex: null }));
  writeTransaction(project.db, () =>
    recordSuggestions(project.db, [
      ...suggest(made.instanceIds, (k) => (k < 3 ? shirt : k < 11 ? tshirt : coat)),
      // The coats' 4 disagreements are too few, and spread: no remedy.
      ...suggest(coats.instanceIds, (k) => (k < 2 ? coat : k < 4 ? shirt : pullover)),
    ]),
  );
  const started = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
  server = started.server;
  url = started.url;
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
}, 300_000);
afterAll(async () => {
  await browser?.close();
  if (server) await new Promise((done) => server.close(done));
  project?.close();
  delete process.env.WINNOW_RESOURCES;
});

/** The Label issues screen with one cell opened (by its button's label), the page's errors collected. */
async function openCell(cell: string) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.getByRole('link', { name: 'Label issues' }).click();
  await page.getByRole('table', { name: 'Label issues matrix' }).getByRole('button', { name: cell }).click();
  return { page, errors, panel: page.getByRole('region', { name: 'Propose remedy' }) };
}

describe('the remedy panel in Chromium', () => {
  // First: applying a remedy scores the project again, which replaces the suggestions set above.
  it('proposes nothing for a class whose few disagreements spread over classes', async () => {
    const { page, panel, errors } = await openCell('2 labelled coat, suggested pullover');
    await panel.getByRole('heading', { name: 'Propose remedy: coat' }).waitFor();
    expect(await panel.getByLabel('Evidence').innerText()).toMatch(/^2 of 4 disagreements .*: too few disagreements/);
    expect(await panel.innerText()).toContain('No single confusion to name: no remedy is proposed for coat.');
    expect(await panel.getByRole('button', { name: 'Apply and generate' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('proposes the negative prompt from the evidence, applies it and shows agreement before and after', async () => {
    const { page, panel, errors } = await openCell('8 labelled shirt, suggested t-shirt');
    await panel.getByRole('heading', { name: 'Propose remedy: shirt' }).waitFor();
    expect(await panel.getByLabel('Evidence').innerText()).toBe(
      '8 of 9 disagreements (of 12 scored instances of shirt) suggest t-shirt.',
    );
    expect(await panel.getByLabel('Negative prompt').inputValue()).toBe('t-shirt');
    expect(await panel.getByLabel('Images to generate').inputValue()).toBe('50');
    await page.screenshot({ path: join(OUTPUT, 'remedy-proposal.png'), fullPage: true });

    await panel.getByLabel('Images to generate').fill('5');
    await panel.getByRole('button', { name: 'Apply and generate' }).click();
    const compare = panel.getByLabel('Agreement before and after');
    await compare.waitFor({ timeout: 120_000 });

    // The class now has the negative prompt, and the batch was made with it and scored.
    expect(getClass(project.db, shirt).negativePrompt).toBe('t-shirt');
    const batch = listInstances(project.db).filter((i) => i.labelId === shirt && i.negativePrompt === 't-shirt');
    expect(batch).toHaveLength(5);
    const agreeing = batch.filter((i) => suggestionOf(project.db, i.id)?.labelId === shirt).length;
    const percent = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
    expect(await compare.getByLabel('Before').innerText()).toBe(
      `Before\n${percent(3, 12)}\n3 of 12 of the class's instances`,
    );
    expect(await compare.getByLabel('After').innerText()).toBe(
      `After\n${percent(agreeing, 5)}\n${agreeing} of 5 of the new batch`,
    );
    await expect.poll(() => panel.innerText()).toMatch(/not accuracy: audit shirt on the Audit screen/);
    await page.screenshot({ path: join(OUTPUT, 'remedy.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(OUTPUT, 'remedy-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.screenshot({ path: join(OUTPUT, 'remedy-1024.png'), fullPage: true });

    // The negative prompt goes back to what it was on request.
    await page.getByRole('button', { name: 'Restore the previous negative prompt' }).click();
    await page.getByRole('status').getByText('Restored the negative prompt (none).').waitFor();
    expect(getClass(project.db, shirt).negativePrompt).toBe('');
    await expect
      .poll(() => panel.getByRole('button', { name: 'Restore the previous negative prompt' }).count())
      .toBe(0);

    // The pointer leads to the Audit screen.
    await panel.getByRole('link', { name: 'Audit' }).click();
    await page.waitForURL(/audit/);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
