import { createServer } from 'node:http';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { addModel, removeModel } from '../../src/main/models/modelRegistry.ts';
import { getInstance } from '../../src/main/store/instances.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { E2E_OUTPUT as OUTPUT, useServedDemoInChromium } from '../helpers/servedDemo.ts';

// The built renderer in Debian's Chromium (playwright gives it a fresh profile), against
// `winnow serve` on the demo project after one round of the loop with tiny real ONNX models (the
// jobs load a chosen CLIP model, the registered one, as it is).
const TINY_CLIP = resolve(import.meta.dirname, '../fixtures/models/tiny-clip');

const demo = useServedDemoInChromium(60);

async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await demo.browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(demo.url);
  return { page, errors };
}

/** Starts a run from the Run screen (random acquisition) and waits until it is done; its id. */
async function runToTheEnd(page: Page, rounds: number, perRound: number): Promise<number> {
  await page.getByLabel('Rounds').fill(String(rounds));
  await page.getByLabel('Per round').fill(String(perRound));
  await page.getByLabel('Acquisition').selectOption('random');
  await page.getByRole('button', { name: 'Start' }).click();
  await page
    .getByRole('status')
    .getByText(/Run \d+ done\./)
    .waitFor({ timeout: 60_000 });
  return Number((await page.getByRole('status').innerText()).match(/Run (\d+)/)?.[1]);
}

describe('the workstation in Chromium', () => {
  it('opens on the demo project and shows its classes', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'ankle boot' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(10);
    expect(await page.locator('tbody tr').first().innerText()).toMatch(/t-shirt\s+20\s+100/);
    await page.screenshot({ path: join(OUTPUT, 'project.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('review: the chosen score kind orders the best/worst strips and the grid, and the tiles show it', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Review' }).click();
    await page.getByLabel('Worst').locator('.tile').first().waitFor();
    await page.getByRole('combobox', { name: 'Score' }).selectOption('small_loss');
    const best = page.getByLabel('Best').locator('.tile');
    await page.waitForLoadState('networkidle');
    const ids = (await best.evaluateAll((tiles) => tiles.map((t) => Number(t.getAttribute('data-id'))))).slice(0, 5);
    const shown = (await best.locator('.score').allInnerTexts()).slice(0, 5).map(Number);
    const latest = (id: number) =>
      (
        demo.project.db
          .prepare("SELECT value FROM scores WHERE instance_id = ? AND kind = 'small_loss' ORDER BY id DESC LIMIT 1")
          .get(id) as { value: number }
      ).value;
    ids.forEach((id, k) => expect(shown[k]).toBeCloseTo(latest(id), 3));
    expect(shown).toEqual([...shown].sort((a, b) => b - a));
    const grid = (await page.getByLabel('All instances').locator('.score').allInnerTexts()).slice(0, 5).map(Number);
    expect(grid).toEqual(shown);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('review: best and worst of a class, reject one, still rejected after a reload, undo', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Review' }).click();
    const worst = page.getByLabel('Worst').locator('.tile');
    const best = page.getByLabel('Best').locator('.tile');
    await worst.first().waitFor();
    expect(await best.count()).toBeGreaterThan(0);
    // Best is sorted high to low, worst low to high.
    const scores = async (tiles: typeof best) => (await tiles.locator('.score').allInnerTexts()).map(Number);
    const bestScores = await scores(best);
    expect(bestScores).toEqual([...bestScores].sort((a, b) => b - a));
    const worstScores = await scores(worst);
    expect(worstScores).toEqual([...worstScores].sort((a, b) => a - b));
    expect(await page.getByLabel('All instances').locator('.tile').count()).toBeGreaterThan(0);

    const target = worst.first();
    const id = Number(await target.getAttribute('data-id'));
    const before = getInstance(demo.project.db, id)!;
    await target.click();
    await page.getByLabel('Detail').getByText(`Instance #${id}`).waitFor();
    await page.keyboard.press('r');
    await page.getByRole('status').getByText('Rejected 1').waitFor();
    expect(getInstance(demo.project.db, id)?.override).toBe('rejected');
    await page.screenshot({ path: join(OUTPUT, 'review.png'), fullPage: true });

    await page.reload();
    const again = page.getByLabel('Worst').locator(`.tile[data-id="${id}"]`);
    await again.waitFor();
    expect(await again.getAttribute('class')).toMatch(/rejected.*curated|curated.*rejected/);

    await again.click();
    await page.keyboard.press('u');
    await page.getByRole('status').getByText('Undid: reject of 1 ').waitFor();
    expect(getInstance(demo.project.db, id)?.override).toBe(before.override);
    expect(await page.getByLabel('Worst').locator(`.tile[data-id="${id}"]`).getAttribute('class')).not.toMatch(
      /curated/,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('audit: draw a stratified sample, mark verdicts with the keyboard, undo, read the accuracy', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Per class').fill('2');
    await page.getByRole('button', { name: 'Draw a stratified sample' }).click();
    const current = page.getByLabel('Current item');
    await current.waitFor();
    await page.keyboard.press('y');
    await current.getByText('item 2 of').waitFor();
    await page.keyboard.press('n');
    await current.getByText('2 marked').waitFor();
    await page.keyboard.press('u');
    await current.getByText('1 marked').waitFor();
    const total = page.getByLabel('Accuracy').locator('tr.total');
    // The total row is the class-size-weighted estimate of what gets exported (the pooled Wilson
    // interval is gone): with one verdict in one class it has no interval yet.
    await expect.poll(() => total.innerText()).toMatch(/all \(weighted\)\s+\d+\s+1\s+1\s+100\.0%\s+—/);
    const verdicts = demo.project.db
      .prepare('SELECT verdict, undone_at AS undone FROM audit_verdicts ORDER BY id')
      .all();
    expect(verdicts).toEqual([
      { verdict: 'correct', undone: null },
      { verdict: 'incorrect', undone: expect.any(String) },
    ]);
    await page.screenshot({ path: join(OUTPUT, 'audit.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('export: choose filters and formats, export into the project, see the summary', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Export' }).click();
    await page.getByLabel('Instances').selectOption('all');
    await page.getByLabel('CSV manifest').uncheck();
    await page.getByLabel('Folder name').fill('../escape');
    await page.getByRole('button', { name: 'Export' }).click();
    await page
      .getByRole('alert')
      .getByText(/name must be a plain folder name/)
      .waitFor();
    await page.getByLabel('Folder name').fill('e2e');
    await page.getByRole('button', { name: 'Export' }).click();
    const summary = page.getByRole('status');
    await summary.getByText(/Exported \d+ instances to/).waitFor();
    const text = await summary.innerText();
    expect(text).toContain(join(demo.project.dir, 'exports', 'e2e'));
    expect(text).toMatch(/Files: images\/metadata.jsonl, manifest.jsonl, coco.json/);
    const total = (demo.project.db.prepare('SELECT count(*) AS n FROM instances').get() as { n: number }).n;
    expect(text).toContain(`Exported ${total} instances`);
    await page.screenshot({ path: join(OUTPUT, 'export.png'), fullPage: true });
    // The deliberately bad folder name is answered 400, which Chromium logs; nothing else may fail.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });

  it('run: start a run from the screen, watch its progress, see its charts', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Run' }).click();
    // Decide each class on its own, keeping 60% of it.
    await page.getByLabel('Rule', { exact: true }).selectOption('class-percentile');
    await page.getByLabel('Rule value').fill('0.6');
    await page.getByLabel('Rule value').dispatchEvent('change');
    const runId = await runToTheEnd(page, 2, 30);
    const rounds = demo.project.db.prepare('SELECT stage FROM rounds WHERE run_id = ? ORDER BY round_index').all(runId);
    expect(rounds).toEqual([{ stage: 'done' }, { stage: 'done' }]);
    const { params } = demo.project.db.prepare('SELECT params FROM runs WHERE id = ?').get(runId) as { params: string };
    expect(JSON.parse(params).rule).toEqual({ kind: 'class-percentile', keep: 0.6 });
    expect(await page.locator('.chart canvas').count()).toBe(3);
    // The histograms of another kind, asked of the engine by name.
    const asked = page.waitForRequest(
      (r) => r.url().endsWith('/api/runMetrics') && /"contribution"/.test(r.postData() ?? ''),
    );
    await page.getByLabel('Histogram score').selectOption('contribution');
    await asked;
    expect(await page.locator('.chart canvas').count()).toBe(3);
    await page.screenshot({ path: join(OUTPUT, 'run.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('classes: edit prompt templates and the negative prompt, refuse a template without {label}', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Classes' }).click();
    const bag = page.getByRole('form', { name: 'bag' });
    await bag.getByLabel('Prompt templates').fill('a photo of a {label}\na {label} on a table');
    await bag.getByLabel('Negative prompt').fill('a dress');
    await bag.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText('Saved bag.').waitFor();
    const row = demo.project.db
      .prepare("SELECT prompt_templates AS t, negative_prompt AS n FROM classes WHERE name = 'bag'")
      .get();
    expect(row).toEqual({ t: JSON.stringify(['a photo of a {label}', 'a {label} on a table']), n: 'a dress' });
    await bag.getByLabel('Prompt templates').fill('a photo of a bag');
    await bag.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('alert')
      .getByText(/must contain \{label\}/)
      .waitFor();
    await page.screenshot({ path: join(OUTPUT, 'classes.png'), fullPage: true });
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });

  it('review detail: nearest real images, score history, status filter, relabel and undo', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Review' }).click();
    const tile = page.getByLabel('Best').locator('.tile').first();
    await tile.waitFor();
    const id = Number(await tile.getAttribute('data-id'));
    await tile.click();
    const detail = page.getByLabel('Detail');
    await detail.getByLabel('Nearest real images').locator('figure').nth(5).waitFor();
    expect(await detail.locator('canvas').count()).toBe(1);
    // Rounds are counted from 1: the demo's first round of the loop scored it as round 1, never 0.
    const rows = (await detail.locator('table.scores tbody tr').allInnerTexts()).map((row) =>
      row.split('\t').map((cell) => cell.trim()),
    );
    expect(rows).toContainEqual(['Quality (default ranking)', '1', expect.any(String)]);
    expect(rows.map((r) => r[1])).not.toContain('0');
    const before = getInstance(demo.project.db, id)!.labelId;
    await detail.getByLabel('Relabel').selectOption({ label: 'bag' });
    await page.getByRole('status').getByText('Relabelled 1').waitFor();
    expect(getInstance(demo.project.db, id)?.labelId).not.toBe(before);
    await page.keyboard.press('u');
    await page
      .getByRole('status')
      .getByText(/Undid: relabel of 1 .* as bag/)
      .waitFor();
    expect(getInstance(demo.project.db, id)?.labelId).toBe(before);
    // The default ranking (quality) is a log-likelihood, mostly below 0: filter just under the best
    // tile's score (shown rounded).
    const floor = Number(await tile.locator('.score').innerText()) - 0.01;
    await page.getByLabel('Minimum score').fill(String(floor));
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect
      .poll(async () => (await page.getByLabel('All instances').locator('.score').allInnerTexts()).map(Number))
      .toSatisfy((scores: number[]) => scores.length > 0 && scores.every((x) => x >= floor));
    await page.getByLabel('Minimum score').fill('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByLabel('Status').selectOption('accepted');
    await expect
      .poll(async () =>
        (
          await page
            .getByLabel('All instances')
            .locator('.tile')
            .evaluateAll((t) => t.map((e) => e.className))
        ).join(' '),
      )
      .not.toMatch(/\brejected\b|\bpending\b/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('models: add a CLIP folder, see every problem of a wrong one with its fix, use it in a run, remove it', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByText('No models registered yet').waitFor();
    const folder = page.getByLabel('Model folder');
    const add = page.getByRole('button', { name: 'Add model' });

    // Refused by the request's validation: a sentence naming the field, not a schema path.
    const alert = page.getByRole('alert');
    await folder.fill('models/tiny-clip');
    await add.click();
    await alert.getByText('The model folder must be an absolute path (got "models/tiny-clip")').waitFor();
    expect(await alert.innerText()).not.toMatch(/folder:|Expected|invalid_/);

    // Not a model folder at all: the engine's message and its fix.
    const notModel = tempDir();
    await folder.fill(notModel);
    await add.click();
    await alert.getByText(`${notModel} is neither a Stable Diffusion folder`, { exact: false }).waitFor();
    expect(await alert.innerText()).toMatch(/Fix: Export it with Hugging Face Optimum: optimum-cli export onnx/);

    await folder.fill(TINY_CLIP);
    await add.click();
    await page.getByRole('status').getByText('Added tiny-clip (CLIP).').waitFor();
    const rows = page.getByRole('table', { name: 'Registered models' }).locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toMatch(
      /^tiny-clip\s+clip\s+fp32\s+\d+ KB\s+\w+\s+tiny-clip@[0-9a-f]{12}\s/,
    );
    expect(await page.getByLabel('Execution provider').innerText()).toMatch(/^Models run on \w+/);

    // A broken CLIP export: each problem on its own line, then the fix.
    const broken = join(tempDir(), 'broken-clip');
    cpSync(TINY_CLIP, broken, { recursive: true });
    rmSync(join(broken, 'vision_model.onnx'));
    writeFileSync(join(broken, 'preprocessor_config.json'), '{ not json');
    await folder.fill(broken);
    await page.getByLabel('Model name').fill('broken');
    await add.click();
    await alert.getByText(`${broken} is not a usable CLIP model folder:`).waitFor();
    expect(await alert.getByLabel('Problems').locator('li').allInnerTexts()).toEqual([
      'vision_model.onnx or onnx/vision_model.onnx is missing',
      expect.stringMatching(/^preprocessor_config\.json is not valid JSON/),
    ]);
    expect(await alert.locator('.fix').innerText()).toMatch(/^Fix: Export CLIP with separate text and vision models/);
    expect(await rows.count()).toBe(1);
    await page.screenshot({ path: join(OUTPUT, 'models.png'), fullPage: true });

    // The run screen offers it as backbone and as CLIP score model; the clip filter needs the latter.
    await page.getByRole('link', { name: 'Run' }).click();
    const clipFilter = page.getByLabel('Filter').locator('option[value="clip"]');
    await page.getByLabel('CLIP score model').locator('option[value="tiny-clip"]').waitFor({ state: 'attached' });
    expect(await clipFilter.isDisabled()).toBe(true);
    expect(await page.getByLabel('Generator').locator('option').allInnerTexts()).toEqual(['embedded']);
    expect(await page.getByLabel('Backbone').locator('option').allInnerTexts()).toEqual(['embedded', 'tiny-clip']);
    await page.getByLabel('CLIP score model').selectOption('tiny-clip');
    expect(await clipFilter.isDisabled()).toBe(false);
    await page.getByLabel('Filter').selectOption('clip');
    const runId = await runToTheEnd(page, 1, 20);
    const run = demo.project.db.prepare('SELECT params, model_ids AS ids FROM runs WHERE id = ?').get(runId) as {
      params: string;
      ids: string;
    };
    expect(JSON.parse(run.params)).toMatchObject({ filter: 'clip' });
    expect(JSON.parse(run.ids)).toMatchObject({ clip: expect.stringMatching(/^tiny-clip@[0-9a-f]{12}$/) });
    const count = (sql: string) => (demo.project.db.prepare(sql).get(runId) as { n: number }).n;
    const made = count('SELECT count(*) AS n FROM instances WHERE run_id = ?');
    expect(made).toBeGreaterThan(0);
    expect(count("SELECT count(*) AS n FROM scores WHERE kind = 'clip' AND run_id = ?")).toBe(made);

    // Removing asks first; "Keep" keeps it.
    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByRole('button', { name: 'Remove…' }).click();
    const confirm = page.getByRole('group', { name: 'Remove tiny-clip?' });
    await confirm.getByRole('button', { name: 'Keep' }).click();
    expect(await rows.count()).toBe(1);
    await page.getByRole('button', { name: 'Remove…' }).click();
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByRole('status').getByText('Removed tiny-clip (its folder is untouched).').waitFor();
    await page.getByText('No models registered yet').waitFor();

    // The run screen forgets it: no CLIP score model, and the filter falls back.
    await page.getByRole('link', { name: 'Run' }).click();
    await expect.poll(() => page.getByLabel('CLIP score model').inputValue()).toBe('');
    expect(await page.getByLabel('Filter').inputValue()).toBe('quality');
    expect(await clipFilter.isDisabled()).toBe(true);
    // The wrong folders are answered 400, which Chromium logs; nothing else may fail.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });

  it('classes: suggest prompts ranked by CLIP, with an endpoint; add one to the templates; a failed endpoint', async () => {
    // The models test above removed tiny-clip at its end: registered again here, and removed after.
    await addModel(TINY_CLIP, 'tiny-clip');
    // A stand-in OpenAI-compatible endpoint: one prompt names the class, the other does not.
    const llm = createServer((request, response) => {
      request.resume();
      const prompts = ['a pullover folded on a wooden chair', 'a knitted jumper on a hanger'];
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ choices: [{ message: { content: JSON.stringify(prompts) } }] }));
    });
    await new Promise<void>((done) => llm.listen(0, '127.0.0.1', done));
    const llmUrl = `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`;
    const { page, errors } = await open();
    try {
      await page.getByRole('link', { name: 'Classes' }).click();
      const pullover = page.getByRole('form', { name: 'pullover', exact: true });
      await pullover.getByLabel('Disambiguation').fill('a knitted sweater');
      await pullover.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').getByText('Saved pullover.').waitFor();

      await pullover.getByRole('button', { name: 'Suggest prompts' }).click();
      const panel = page.getByRole('region', { name: 'Prompt suggestions for pullover' });
      await panel.getByLabel('CLIP model').locator('option[value="tiny-clip"]').waitFor({ state: 'attached' });
      expect(await panel.getByLabel('CLIP model').inputValue()).toBe('');
      await panel.getByLabel('CLIP model').selectOption('tiny-clip');
      await panel.getByLabel('Endpoint URL').fill(llmUrl);
      await panel.getByLabel('Endpoint model').fill('local');
      await panel.getByRole('button', { name: 'Suggest', exact: true }).click();
      const rows = panel.getByRole('table', { name: 'Suggestions' }).locator('tbody tr');
      await rows.first().waitFor();
      expect(await panel.locator('caption').innerText()).toMatch(/^16 suggestions, .*\(CLIP: tiny-clip\)/);
      expect(await rows.count()).toBe(16);
      const similarities = (await rows.locator('.similarity').allInnerTexts()).map(Number);
      expect(similarities.every((x) => Number.isFinite(x) && Math.abs(x) <= 1)).toBe(true);
      expect(similarities).toEqual([...similarities].sort((a, b) => b - a));
      const prompts = await rows.locator('.prompt').allInnerTexts();
      expect(prompts).toContain('a photo of a pullover (a knitted sweater) on a shelf');
      expect(prompts).toContain('a pullover folded on a wooden chair');
      const jumper = rows.filter({ hasText: 'a knitted jumper on a hanger' });
      expect(await jumper.locator('.source').innerText()).toBe('endpoint');
      expect(await jumper.getByRole('button').count()).toBe(0);
      expect(await jumper.innerText()).toMatch(/Cannot be added: it never names "pullover"/);

      // The best-ranked suggestion that can be added goes into the class's templates, stored at once.
      const first = rows.filter({ has: page.getByRole('button', { name: 'Add', exact: true }) }).first();
      const prompt = await first.locator('.prompt').innerText();
      const template = (await first.getByRole('button').getAttribute('title'))!.match(/^Adds “(.*)”$/)![1]!;
      expect(template).toContain('{label}');
      await first.getByRole('button', { name: 'Add', exact: true }).click();
      await panel.getByRole('status').getByText(`Added "${template}" to pullover's prompt templates.`).waitFor();
      const row = rows.filter({ has: page.getByText(prompt, { exact: true }) });
      expect(await row.getByRole('button').innerText()).toBe('In templates');
      expect(await pullover.getByLabel('Prompt templates').inputValue()).toBe(`a photo of a {label}\n${template}`);
      const stored = demo.project.db
        .prepare("SELECT prompt_templates AS t FROM classes WHERE name = 'pullover'")
        .get() as {
        t: string;
      };
      expect(JSON.parse(stored.t)).toEqual(['a photo of a {label}', template]);
      await page.screenshot({ path: join(OUTPUT, 'prompts.png'), fullPage: true });

      // An endpoint that cannot be reached: the templates alone, and why.
      await new Promise((done) => llm.close(done));
      await panel.getByRole('button', { name: 'Suggest', exact: true }).click();
      await panel.getByRole('note').waitFor();
      expect(await panel.getByRole('note').innerText()).toMatch(/^Templates only: fetch failed/);
      expect(await panel.getByRole('note').innerText()).toContain(llmUrl);
      expect(await rows.count()).toBe(14);
      expect(await rows.locator('.source').allInnerTexts()).toEqual(Array(14).fill('template'));
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      if (llm.listening) await new Promise((done) => llm.close(done));
      await removeModel('tiny-clip');
    }
  });

  it('projects: create another project and open it, then go back to the demo', async () => {
    const { page, errors } = await open();
    const other = join(tempDir(), 'other');
    await page.getByLabel('Project folder').fill(other);
    await page.getByRole('button', { name: 'Create' }).click();
    // The engine switches and every view reloads on the new, empty project.
    await page.getByRole('heading', { name: 'other' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(0);
    expect(await page.getByLabel('Recent projects').innerText()).toContain(other);
    await page.getByLabel('Project folder').fill(demo.project.dir);
    await page.getByRole('button', { name: 'Open' }).last().click();
    await page.getByRole('heading', { name: 'Fashion-MNIST demo' }).waitFor();
    await page.getByRole('listitem').filter({ hasText: other }).getByRole('button', { name: 'Open' }).waitFor();
    await page.getByLabel('Project folder').fill('relative/path');
    await page.getByRole('button', { name: 'Open' }).last().click();
    await page
      .getByRole('alert')
      .getByText(/must be an absolute path/)
      .waitFor();
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await page.close();
  });
});
