// Takes the README's review screenshot (docs/review.png) from a real project, e.g. the demo after
// `winnow demo && winnow run --rounds 3 --per-round 200`: the review screen of one class with its
// best and worst instances and the detail panel of its worst one.
//
//   npm run build && node tools/docs/review-screenshot.ts <project dir> [--class Shirt] [--score contribution]
//     [--out docs/review.png]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { openProject } from '../../src/main/store/project.ts';
import { launchChromium } from '../../test/helpers/chromium.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    class: { type: 'string', default: 'Shirt' },
    score: { type: 'string', default: 'contribution' },
    out: { type: 'string', default: 'docs/review.png' },
  },
});
if (positionals.length !== 1) throw new Error('usage: node tools/docs/review-screenshot.ts <project dir> [--class C]');
const project = openProject(resolve(positionals[0]!));
const { server, url } = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(url);
  await page.getByRole('link', { name: args.class.toLowerCase(), exact: true }).click();
  await page.getByRole('combobox', { name: 'Score' }).selectOption(args.score);
  const worst = page.getByLabel('Worst').locator('.tile');
  await worst.first().waitFor();
  await worst.first().click();
  await page.getByLabel('Detail').getByText('Instance #').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: resolve(args.out), fullPage: false });
  console.log(`Wrote ${resolve(args.out)}.`);
} finally {
  await browser.close();
  server.close();
  project.close();
}
