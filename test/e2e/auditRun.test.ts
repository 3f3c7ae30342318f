import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { getInstance } from '../../src/main/store/instances.ts';
import { dispatch } from '../../src/main/service/winnowService.ts';
import { freePort, hasRedis, RedisServer } from '../helpers/queueProcesses.ts';
import { E2E_OUTPUT as OUTPUT, useServedDemoInChromium } from '../helpers/servedDemo.ts';

// The Audit and Run screens in Debian's Chromium against `winnow serve` on the demo project after
// one round of the loop with tiny real ONNX models (the setup of workstation.test.ts).

const demo = useServedDemoInChromium(60);

async function open(width = 1440): Promise<{ page: Page; errors: string[] }> {
  const page = await demo.browser.newPage({ viewport: { width, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(demo.url);
  return { page, errors };
}

/** The screen in light mode, in dark mode and at 1,024 px wide, into test/output. */
async function screenshots(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(OUTPUT, `${name}-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1024, height: 900 });
  await page.screenshot({ path: join(OUTPUT, `${name}-1024.png`), fullPage: true });
}

const all = <T>(sql: string, ...params: unknown[]) => demo.project.db.prepare(sql).all(...params) as T[];
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

describe('the Audit and Run screens in Chromium', () => {
  it('audit: samples what gets exported, weights classes by size, bootstraps the AUROC, relabels an incorrect item', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Audit' }).click();
    await page
      .getByLabel('Population note')
      .getByText(/accepted instances .* what an export of accepted/)
      .waitFor();
    await page.getByLabel('Per class').fill('2');
    await page.getByRole('button', { name: 'Draw a stratified sample' }).click();
    const current = page.getByLabel('Current item');
    await current.waitFor();
    const total = Number((await current.innerText()).match(/item 1 of (\d+)/)?.[1]);
    expect(total).toBeGreaterThan(2);
    // The first judged incorrect, the rest correct; completion once every class's sample is judged.
    for (let k = 0; k < total; k++) {
      await page.keyboard.press(k === 0 ? 'n' : 'y');
      await current.getByText(`${k + 1} marked`).waitFor();
    }
    await page.getByRole('status').getByText(`Every class’s sample is judged (${total} verdicts)`).waitFor();

    // Every drawn item was accepted (the exported population).
    const judged = all<{ id: number; labelId: number; verdict: string }>(
      'SELECT instance_id AS id, label_id AS labelId, verdict FROM audit_verdicts WHERE undone_at IS NULL',
    );
    expect(judged).toHaveLength(total);
    for (const v of judged) {
      const i = getInstance(demo.project.db, v.id)!;
      expect(i.override ?? i.status).toBe('accepted');
    }
    // The stratified estimate computed here from the project file: Σ N_h/N · correct_h/audited_h.
    const sizes = new Map(
      all<{ labelId: number; n: number }>(
        "SELECT label_id AS labelId, count(*) AS n FROM instances WHERE coalesce(override, status) = 'accepted' GROUP BY label_id",
      ).map((r) => [r.labelId, r.n]),
    );
    const strata = [...new Set(judged.map((v) => v.labelId))].map((labelId) => {
      const mine = judged.filter((v) => v.labelId === labelId);
      return {
        size: sizes.get(labelId)!,
        audited: mine.length,
        p: mine.filter((v) => v.verdict === 'correct').length / mine.length,
      };
    });
    const population = strata.reduce((n, s) => n + s.size, 0);
    const weighted = strata.reduce((sum, s) => sum + (s.size / population) * s.p, 0);
    const row = page.getByLabel('Accuracy').locator('tr.total');
    expect((await row.innerText()).split('\t').map((c) => c.trim())).toEqual([
      'all (weighted)',
      String([...sizes.values()].reduce((a, b) => a + b, 0)),
      String(total),
      String(total - 1),
      pct(weighted),
      // An interval needs two verdicts in every judged class (a class with one accepted instance has one).
      strata.every((s) => s.audited >= 2) ? expect.stringMatching(/^\d+\.\d% – \d+\.\d%$/) : '—',
      '0',
    ]);
    expect(await page.getByLabel('Weighted estimate').innerText()).toContain(
      `Pooled as if the classes were equal in size: ${pct((total - 1) / total)}`,
    );

    // The agreement of a picked score kind, with its bootstrap interval and the incorrect count.
    const asked = page.waitForRequest(
      (r) => r.url().endsWith('/api/auditSummary') && /"contribution"/.test(r.postData() ?? ''),
    );
    await page.getByLabel('Agreement score').selectOption('contribution');
    await asked;
    const agreement = page.getByLabel('Agreement', { exact: true });
    await agreement.getByText(/Contribution/).waitFor();
    expect(await agreement.innerText()).toMatch(
      new RegExp(
        `${total} scored, of which 1 incorrect: AUROC for flagging incorrect labels \\d\\.\\d{3} \\(95% bootstrap interval \\d\\.\\d{3} – \\d\\.\\d{3}, 1000 resamples, seed 1\\)`,
      ),
    );
    await page.getByText('It rests on 1 incorrect item').waitFor();

    await screenshots(page, 'audit-estimates');
    await page.setViewportSize({ width: 1440, height: 1000 });

    // The incorrect item, relabelled in one choice through the curator's relabel, then undone.
    const bad = judged.find((v) => v.verdict === 'incorrect')!;
    const list = page.getByLabel('Judged incorrect');
    const relabel = list.getByLabel(`Relabel ${bad.id}`);
    const target = (await relabel.locator('option:not([disabled])').first().getAttribute('value'))!;
    await relabel.selectOption(target);
    await list.getByText(/relabelled /).waitFor();
    expect(getInstance(demo.project.db, bad.id)?.labelId).toBe(Number(target));
    expect(
      all<{ action: string }>('SELECT action FROM curator_actions WHERE instance_id = ? AND undone_at IS NULL', bad.id),
    ).toEqual([{ action: 'relabel' }]);
    await page.screenshot({ path: join(OUTPUT, 'audit-relabelled.png'), fullPage: true });
    await list.getByRole('button', { name: 'Undo relabel' }).click();
    await expect.poll(() => getInstance(demo.project.db, bad.id)?.labelId).toBe(bad.labelId);

    // Every instance instead: said on screen, and the sample of the other population is put away.
    await page.getByLabel('Population', { exact: true }).selectOption('all');
    await page
      .getByLabel('Population note')
      .getByText(/every instance, accepted, rejected or pending alike/)
      .waitFor();
    expect(await current.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('run: whole-run ETA, per-round table, a past run’s own settings read-only, two runs compared', async () => {
    const { page, errors } = await open();
    await page.getByRole('link', { name: 'Run' }).click();
    await page.getByLabel('Settings of run 1').waitFor();
    await page.getByLabel('Rounds').fill('3');
    await page.getByLabel('Per round').fill('20');
    await page.getByLabel('Acquisition').selectOption('random');
    await page.getByRole('button', { name: 'Start' }).click();
    const progress = page.getByLabel('Progress');
    // From the second round on, the ETA is the whole run's, from the finished rounds' measured times
    // (round 2's may pass before the page looks on a busy machine: then round 3's, over 2).
    await progress
      .getByText(/ETA .* for the whole run \(mean round .* over [12] finished\)/)
      .waitFor({ timeout: 120_000 });
    await page
      .getByRole('status')
      .getByText(/Run \d+ done\./)
      .waitFor({ timeout: 120_000 });
    const runId = Number((await page.getByRole('status').innerText()).match(/Run (\d+)/)?.[1]);

    // The table of the run's rounds, as the project file holds them.
    const table = page.getByLabel(`Round table of run ${runId}`);
    await table.waitFor();
    const metricOf = (run: number, round: number, name: string) =>
      all<{ value: number }>(
        'SELECT value FROM metrics WHERE run_id = ? AND round_index = ? AND name = ?',
        run,
        round,
        name,
      )[0]?.value;
    const metric = (round: number, name: string) => metricOf(runId, round, name);
    const rows = (await table.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
    expect(rows.map((r) => r[0])).toEqual(['start', '1', '2', '3']);
    rows.slice(1).forEach((r, k) => {
      expect(r[1]).toBe(String(metric(k, 'generated')));
      expect(r[2]).toBe(String(metric(k, 'accepted_new')));
      expect(r[3]).toBe(pct(metric(k, 'val_accuracy')!));
    });
    expect(await table.locator('thead').innerText()).toMatch(/generate s.*train s/s);

    // A past run picked: its own settings beside the form, which stays the next run's.
    await page.getByLabel('Show run').selectOption('1');
    const past = page.getByLabel('Settings of run 1');
    await past.getByText('Run #1 ran with (read-only)').waitFor();
    expect(await past.locator('dt:text-is("perRound") + dd').innerText()).toBe('60');
    expect(await page.getByLabel('Per round').inputValue()).toBe('20');
    expect(await page.getByLabel('Next run').getByText('Next run’s settings').count()).toBe(1);

    // Compared with the new run: settings that differ marked, rounds side by side.
    await page.getByLabel('Compare with').selectOption(String(runId));
    const compared = page.getByLabel('Compared settings');
    await compared.waitFor();
    const perRound = compared.locator('tr', { hasText: 'perRound' });
    expect((await perRound.innerText()).split('\t').map((c) => c.trim())).toEqual(['perRound', '60', '20']);
    expect(await perRound.getAttribute('class')).toBe('differs');
    expect(await page.getByLabel('Metrics side by side').locator('tbody tr').count()).toBe(4);
    const first = (await page.getByLabel('Metrics side by side').locator('tbody tr').nth(1).innerText()).split('\t');
    // The picked run (#1) first, the compared one second.
    expect(first.slice(1, 3).map((c) => c.trim())).toEqual([
      pct(metricOf(1, 0, 'val_accuracy')!),
      pct(metric(0, 'val_accuracy')!),
    ]);
    await screenshots(page, 'run-compare');
    await page.setViewportSize({ width: 1440, height: 1000 });

    // The past run's choices copied into the next run's form, on request only.
    await page.getByRole('button', { name: 'Use these settings for the next run' }).click();
    expect(await page.getByLabel('Per round').inputValue()).toBe('60');
    expect(await page.getByLabel('Rounds').inputValue()).toBe('1');
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  it.skipIf(!hasRedis)(
    'run: where runs generate, a Redis queue checked by connecting, then the engine again',
    async () => {
      const { page, errors } = await open();
      await page.getByRole('link', { name: 'Run' }).click();
      const where = page.getByLabel('Where runs generate');
      await where.getByText('Generate on other machines (a Redis queue)').click();
      // Nothing listens there: refused with the reason, nothing chosen.
      const nobody = `redis://127.0.0.1:${await freePort()}`;
      await where.getByLabel('Redis URL').fill(nobody);
      await where.getByRole('button', { name: 'Use this queue' }).click();
      await page.getByRole('alert').getByText(`Cannot reach Redis at ${nobody}`).waitFor();
      expect(await dispatch(demo.engine.api, 'queueSetting', {})).toEqual({ url: null, source: null });

      const redis = new RedisServer(await freePort());
      await redis.start();
      try {
        await where.getByLabel('Redis URL').fill(redis.url);
        await where.getByRole('button', { name: 'Use this queue' }).click();
        await where.getByText(`Runs started from now on generate through the queue ${redis.url}`).waitFor();
        expect(await dispatch(demo.engine.api, 'queueSetting', {})).toEqual({ url: redis.url, source: 'setting' });
        await screenshots(page, 'run-queue');
        await where.getByRole('button', { name: 'Generate in this engine' }).click();
        await where.getByText('Generate on other machines (a Redis queue)').waitFor();
        expect(await dispatch(demo.engine.api, 'queueSetting', {})).toEqual({ url: null, source: null });
      } finally {
        await redis.stop();
      }
      expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
      await page.close();
    },
  );
});
