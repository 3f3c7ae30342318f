// Takes the README's review screenshot (docs/review.png) from a real project, e.g. the demo after
// `winnow demo && winnow run --rounds 3 --per-round 200`: the review screen of one class with its
// best and worst instances and the detail panel of its worst one, its nearest real images included.
//
//   npm run build && node tools/docs/review-screenshot.ts <project dir> [--class shirt] [--score quality]
//     [--out docs/review.png]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { serve } from '../../src/main/server/server.ts';
import { createEngine } from '../../src/main/service/winnowService.ts';
import { openProject } from '../../src/main/store/project.ts';
import { launchChromium } from '../../test/helpers/chromium.ts';
import { DEFAULT_SCORE_KIND } from '../../src/shared/scoreKinds.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    class: { type: 'string', default: 'shirt' },
    score: { type: 'string', default: DEFAULT_SCORE_KIND },
    out: { type: 'string', default: 'docs/review.png' },
  },
});
if (positionals.length !== 1) throw new Error('usage: node tools/docs/review-screenshot.ts <project dir> [--class C]');
const project = openProject(resolve(positionals[0]!));
const { server, url } = await serve({ engine: createEngine(project), port: 0, host: '127.0.0.1' });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1200 } });
  await page.goto(url);
  await page.getByRole('link', { name: args.class.toLowerCase(), exact: true }).click();
  await page.getByRole('combobox', { name: 'Score' }).selectOption(args.score);
  const worst = page.getByLabel('Worst').locator('.tile');
  await worst.first().waitFor();
  await worst.first().click();
  await page.getByLabel('Detail').getByText('Instance #').waitFor();
  // Its nearest real images, decoded: what tells a curator what the generator drew instead.
  const nearest = page.getByLabel('Nearest real images').locator('img');
  await nearest.first().waitFor();
  await nearest.evaluateAll((images) => Promise.all(images.map((img) => (img as HTMLImageElement).decode())));
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: resolve(args.out), fullPage: false });
  console.log(`Wrote ${resolve(args.out)}.`);
} finally {
  await browser.close();
  server.close();
  project.close();
}
