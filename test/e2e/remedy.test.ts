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
    expect(await panel.getByRole('button', { name: 'Try remedies' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("tries each remedy on a batch, shows every batch's agreement beside the class's before, applies the best and undoes it", async () => {
    const { page, panel, errors } = await openCell('8 labelled shirt, suggested t-shirt');
    await panel.getByRole('heading', { name: 'Propose remedy: shirt' }).waitFor();
    expect(await panel.getByLabel('Evidence').innerText()).toBe(
      '8 of 9 disagreements (of 12 scored instances of shirt) suggest t-shirt.',
    );
    expect(await panel.getByLabel('Negative prompt').inputValue()).toBe('t-shirt');
    expect(await panel.getByLabel('Images per batch').inputValue()).toBe('24');
    await page.screenshot({ path: join(OUTPUT, 'remedy-proposal.png'), fullPage: true });

    await panel.getByLabel('Images per batch').fill('3');
    await panel.getByRole('button', { name: 'Try remedies' }).click();
    const table = panel.getByRole('table', { name: 'Agreement per remedy' });
    await table.waitFor({ timeout: 180_000 });

    // Three batches of 3 from the same seeds: none, the negative prompt, stronger guidance.
    const made = listInstances(project.db).filter((i) => i.labelId === shirt && i.runId !== null);
    const runs = [...new Set(made.map((i) => i.runId))].slice(-3);
    expect(runs).toHaveLength(3);
    const batches = runs.map((run) => made.filter((i) => i.runId === run));
    expect(batches.every((b) => b.length === 3)).toBe(true);
    expect(batches[1]!.every((i) => i.negativePrompt === 't-shirt')).toBe(true);
    const agreeing = batches.map((b) => b.filter((i) => suggestionOf(project.db, i.id)?.labelId === shirt).length);
    const percent = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
    const row = (name: string) => table.getByRole('row', { name, exact: true });
    expect(await row('Before').innerText()).toBe(`Before\tthe class's instances\t${percent(3, 12)}\t3 of 12`);
    expect(await row('No remedy').innerText()).toBe(
      `No remedy\ta new batch as the class is\t${percent(agreeing[0]!, 3)}\t${agreeing[0]} of 3`,
    );
    expect(await row('Negative prompt naming the confused class').innerText()).toContain(
      `negative prompt "t-shirt"\t${percent(agreeing[1]!, 3)}\t${agreeing[1]} of 3`,
    );
    expect(await row('Stronger guidance').innerText()).toContain(
      `guidance scale 4\t${percent(agreeing[2]!, 3)}\t${agreeing[2]} of 3`,
    );
    expect(await panel.innerText()).toContain(
      'Not tried: Disambiguation naming what the class is not (the generator does not follow the wording of a prompt).',
    );
    await expect.poll(() => panel.innerText()).toMatch(/not accuracy: audit shirt on the Audit screen/);
    await page.screenshot({ path: join(OUTPUT, 'remedy.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(OUTPUT, 'remedy-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1024, height: 800 });
    await page.screenshot({ path: join(OUTPUT, 'remedy-1024.png'), fullPage: true });

    // The best raise is applied and marked, and undone on request; or nothing is.
    const verdict = await panel.getByLabel('Verdict').innerText();
    const undo = panel.getByRole('button', { name: 'Undo the remedy' });
    if (Math.max(agreeing[1]!, agreeing[2]!) <= agreeing[0]!) {
      expect(verdict).toBe('No remedy tried raised agreement; left as is.');
      expect(await undo.count()).toBe(0);
      expect(getClass(project.db, shirt)).toMatchObject({ negativePrompt: '', guidanceScale: null });
    } else {
      const negative = agreeing[1]! >= agreeing[2]!;
      expect(verdict).toMatch(negative ? /applied: negative prompt "t-shirt"\.$/ : /applied: guidance scale 4\.$/);
      expect(await table.getByText('(applied)').count()).toBe(1);
      expect(getClass(project.db, shirt)).toMatchObject(
        negative ? { negativePrompt: 't-shirt', guidanceScale: null } : { negativePrompt: '', guidanceScale: 4 },
      );
      await undo.click();
      await page
        .getByRole('status')
        .getByText(/^Undid the remedy/)
        .waitFor();
      expect(getClass(project.db, shirt)).toMatchObject({ negativePrompt: '', guidanceScale: null });
      await expect.poll(() => undo.count()).toBe(0);
    }

    // Fewer budget, which no batch can show, is applied by hand as proposed.
    await panel.getByRole('button', { name: 'Apply budget weight 0.5' }).click();
    await page.getByRole('status').getByText('Applied budget weight 0.5.').waitFor();
    expect(getClass(project.db, shirt).budgetWeight).toBe(0.5);
    await expect.poll(() => panel.getByRole('button', { name: 'Apply budget weight 0.5' }).count()).toBe(0);

    // The pointer leads to the Audit screen.
    await panel.getByRole('link', { name: 'Audit' }).click();
    await page.waitForURL(/audit/);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
