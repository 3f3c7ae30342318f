import type { Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STYLE_TEMPLATES } from '../../src/main/pipeline/promptSuggestions.ts';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { listClasses } from '../../src/main/store/classes.ts';
import { initProject, type Project } from '../../src/main/store/project.ts';
import { summarize } from '../../src/main/store/summary.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';

// A new, empty project set up from the built renderer in Chromium through `winnow serve`, as a
// first-time curator would: the next step is shown, classes are created and renamed, a real folder
// is imported and reported, a bad folder is refused in a sentence naming it; light, dark and 1,024 px.
const OUTPUT = resolve(import.meta.dirname, '../output');
let project: Project;
let server: Server;
let url: string;
let browser: Browser;
/** The real ImageFolder the curator imports: two classes the project has, one it lacks, and one non-image. */
let realFolder: string;
let syntheticFolder: string;

beforeAll(async () => {
  process.env.WINNOW_HOME = join(tempDir(), 'home');
  project = initProject(join(tempDir(), 'fresh'));
  realFolder = join(tempDir(), 'real');
  await makeImageFolder(realFolder, { shirt: 3, trousers: 2, dress: 2 });
  writeFileSync(join(realFolder, 'shirt', 'notes.png'), 'not an image');
  syntheticFolder = join(tempDir(), 'synthetic');
  await makeImageFolder(syntheticFolder, { shirt: 2 }, 100);
  ({ server, url } = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' }));
  browser = await launchChromium();
  mkdirSync(OUTPUT, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  project.close();
});

async function open(width = 1440, colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.emulateMedia({ colorScheme });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

const nextStep = (page: Page) => page.getByRole('complementary', { name: 'Next step' });
const importForm = (page: Page) => page.getByRole('form', { name: 'Import' });

/** Imports a folder from the Project screen and waits for the job to end; the report's or the error's text. */
async function importFolder(page: Page, folder: string, kind: 'Real (labelled)' | 'Synthetic' = 'Real (labelled)') {
  await page.getByRole('link', { name: 'Project' }).click();
  await importForm(page).getByLabel(kind).check();
  await page.getByLabel('Image folder').fill(folder);
  await importForm(page).getByRole('button', { name: 'Import' }).click();
}

/** The page is no wider than its window: nothing to scroll sideways. */
// (Expressions evaluated in the page, where the DOM is: this file is compiled without it.)
const overflow = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');

describe('setting up a new project from the UI', () => {
  it('an empty project says what to do first, with buttons that go there', async () => {
    const { page, errors } = await open();
    const step = nextStep(page);
    await step.getByText('This project is empty.').waitFor();
    expect(await step.getByRole('button').allInnerTexts()).toEqual(['Create classes', 'Import real images']);
    await page.screenshot({ path: join(OUTPUT, 'setup-empty.png'), fullPage: true });

    await step.getByRole('button', { name: 'Import real images' }).click();
    await expect
      .poll(() => page.evaluate<string | null>("document.activeElement?.getAttribute('aria-label') ?? null"))
      .toBe('Image folder');

    await step.getByRole('button', { name: 'Create classes' }).click();
    await page.getByRole('heading', { name: 'Classes and prompts' }).waitFor();
    await nextStep(page).getByText('No classes yet.').waitFor();

    // The screens past setup say what they lack, then the same next step with its buttons.
    for (const [screen, lacks] of [
      ['Run', ''],
      ['Review', 'Nothing to review yet: this project has no synthetic instances. '],
      ['Audit', 'Nothing to audit yet: this project has no synthetic instances. '],
      ['Export', 'Nothing to export yet: this project has no synthetic instances. '],
    ] as const) {
      await page.getByRole('link', { name: screen, exact: true }).click();
      await nextStep(page).getByText(`${lacks}This project is empty. Start by naming its classes`).waitFor();
      expect(await nextStep(page).getByRole('button').allInnerTexts()).toEqual([
        'Create classes',
        'Import real images',
      ]);
      await page.screenshot({ path: join(OUTPUT, `setup-empty-${screen.toLowerCase()}.png`), fullPage: true });
    }
    await nextStep(page).getByRole('button', { name: 'Create classes' }).click();
    await page.getByRole('heading', { name: 'Classes and prompts' }).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('creates two classes, renames one, and refuses a name that is no folder name in a sentence', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Classes' }).click();
    for (const name of ['shirt', 'trouser']) {
      await page.getByLabel('New class name').fill(name);
      await page.getByRole('button', { name: 'Create class' }).click();
      await page.getByRole('status').getByText(`Created ${name}.`).waitFor();
    }
    expect(await nextStep(page).count()).toBe(0);
    await page.getByRole('button', { name: 'Rename trouser' }).click();
    await page.getByLabel('New name for trouser').fill('trousers');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await page.getByRole('status').getByText('Renamed trouser to trousers. Its prompts now say "trousers".').waitFor();
    await page.getByRole('heading', { name: 'trousers' }).waitFor();
    expect(listClasses(project.db).map((c) => c.name)).toEqual(['shirt', 'trousers']);

    await page.getByLabel('New class name').fill('shirt');
    await page.getByRole('button', { name: 'Create class' }).click();
    await page.getByRole('alert').getByText('Class "shirt" already exists.').waitFor();
    await page.getByRole('button', { name: 'Rename shirt' }).click();
    await page.getByLabel('New name for shirt').fill('tops/shirts');
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText('shirt: Class name "tops/shirts" contains a character not allowed in folder names', { exact: false })
      .waitFor();
    expect(listClasses(project.db).map((c) => c.name)).toEqual(['shirt', 'trousers']);
    // The browser logs each refused request (the existing name, the bad rename); nothing else went wrong.
    expect(errors).toEqual(
      Array(2).fill('Failed to load resource: the server responded with a status of 400 (Bad Request)'),
    );
    await page.close();
  });

  it('prompt suggestions mark the styles the embedded generator cannot draw, as the engine says', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Classes' }).click();
    const card = page.getByRole('form', { name: 'shirt' });
    await card.getByRole('button', { name: 'Suggest prompts' }).click();
    const panel = page.getByRole('region', { name: 'Prompt suggestions for shirt' });
    await panel.getByRole('button', { name: 'Suggest', exact: true }).click();
    await panel
      .getByRole('complementary', { name: 'Generator' })
      .getByText('class-conditional', { exact: false })
      .waitFor();
    const marked = panel.locator('tr.undrawable');
    expect(await marked.locator('.prompt').allInnerTexts()).toEqual(
      STYLE_TEMPLATES.map((t) => t.replace('{label}', 'shirt')),
    );
    expect(await marked.locator('.not-drawn').allInnerTexts()).toEqual(
      STYLE_TEMPLATES.map(() => 'not drawn by the embedded generator'),
    );
    // A context suggestion (where the object is) is not marked: only styles.
    const table = panel.getByRole('table', { name: 'Suggestions' });
    expect(await table.locator('tr:not(.undrawable)').getByText('a photo of a shirt on a table').count()).toBe(1);
    await page.screenshot({ path: join(OUTPUT, 'setup-suggestions.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('imports a real folder as a job and shows the report: added per class, new classes, skipped files', async () => {
    const { page, errors } = await open();
    await nextStep(page).getByText('Next: import real training images for shirt, trousers').waitFor();
    await importFolder(page, realFolder);
    const report = page.getByRole('status', { name: 'Import report' });
    await report.getByText(`Imported 7 real images into the train split from ${realFolder}. Skipped 1.`).waitFor();
    await report.getByText('New classes: dress').waitFor();
    const rows = await report.getByRole('table', { name: 'Added per class' }).locator('tbody tr').allInnerTexts();
    expect(rows.map((r) => r.split('\t').join(' '))).toEqual(['shirt 3', 'trousers 2', 'dress 2']);
    await report.getByText(join(realFolder, 'shirt', 'notes.png')).waitFor();
    const counts = summarize(project.db).classes.map((c) => [c.name, c.real.train]);
    expect(counts).toEqual([
      ['shirt', 3],
      ['trousers', 2],
      ['dress', 2],
    ]);
    // The counts on the screen are the project's new ones, and the next step moves on.
    await page.getByRole('table').first().getByText('dress').waitFor();
    await nextStep(page).getByText('Next: generate synthetic images.').waitFor();
    await page.screenshot({ path: join(OUTPUT, 'setup-imported.png'), fullPage: true });
    // The Run screen offers the other way in; Review sends to a run.
    await page.getByRole('link', { name: 'Run', exact: true }).click();
    await nextStep(page).getByText('Next: generate synthetic images.').waitFor();
    expect(await nextStep(page).getByRole('button').allInnerTexts()).toEqual(['Import synthetic images']);
    await page.getByRole('link', { name: 'Review', exact: true }).click();
    await nextStep(page).getByText('Nothing to review yet: this project has no synthetic instances. Next:').waitFor();
    await nextStep(page).getByRole('button', { name: 'Start a run' }).click();
    await page.getByRole('heading', { name: 'Run', exact: true }).waitFor();

    await importFolder(page, syntheticFolder, 'Synthetic');
    await report.getByText(`Imported 2 synthetic instances (run 1) from ${syntheticFolder}.`).waitFor();
    expect(summarize(project.db).classes.find((c) => c.name === 'shirt')?.synthetic.pending).toBe(2);
    expect(await nextStep(page).count()).toBe(0);
    // With synthetic instances, no screen guides any more.
    for (const screen of ['Run', 'Review', 'Audit', 'Export']) {
      await page.getByRole('link', { name: screen, exact: true }).click();
      await page.getByRole('heading', { name: screen, exact: true }).waitFor();
      await expect.poll(() => nextStep(page).count()).toBe(0);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a bad folder is refused in a sentence that names it and says what to do', async () => {
    const { page } = await open();
    const missing = join(realFolder, 'no-such-folder');
    await importFolder(page, missing);
    const alert = page.getByRole('alert');
    await alert.getByText(`There is no folder ${missing}.`).waitFor();
    await alert.getByText('It is a path on the machine the engine runs on', { exact: false }).waitFor();

    const file = join(realFolder, 'shirt', 'shirt-0.png');
    await importFolder(page, file);
    await alert.getByText(`${file} is a file, not a folder.`).waitFor();

    const escaping = `${realFolder}/../real`;
    await importFolder(page, escaping);
    await alert.getByText(`The folder path ${escaping} contains "..".`).waitFor();

    // Refused by the request's validation: a sentence, not a schema path.
    await importFolder(page, 'photos/train');
    await alert
      .getByText('The image folder must be an absolute path (got "photos/train"): type the full path of the folder', {
        exact: false,
      })
      .waitFor();
    expect(await alert.innerText()).not.toMatch(/folder:|Expected|invalid_/);
    await page.close();
  });

  it('dark mode and a 1,024 px window: the setup screens fit without scrolling sideways', async () => {
    const { page, errors } = await open(1024, 'dark');
    await page.getByRole('table').first().getByText('dress').waitFor();
    expect(await page.evaluate<boolean>("matchMedia('(prefers-color-scheme: dark)').matches")).toBe(true);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(OUTPUT, 'setup-project-dark-1024.png'), fullPage: true });
    await page.getByRole('link', { name: 'Classes' }).click();
    await page.getByRole('heading', { name: 'trousers' }).waitFor();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(OUTPUT, 'setup-classes-dark-1024.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(OUTPUT, 'setup-classes-1024.png'), fullPage: true });
    await page.getByRole('link', { name: 'Models' }).click();
    await page
      .getByLabel('No models')
      .getByText('Runs use the embedded generator and backbone', { exact: false })
      .waitFor();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(OUTPUT, 'setup-models-1024.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
