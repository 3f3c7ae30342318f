// Takes the README's screenshots of the Map, the viewer and the Label issues screen (docs/map.png,
// docs/viewer.png, docs/label-issues.png) on the demo after a short run, as a user would make them:
// `winnow demo` into a temporary folder, `winnow run` with the embedded models, `winnow serve`, and
// Debian's Chromium at 1,280 × 800 in light mode. Builds nothing: run `npx electron-vite build` first.
//
//   npx electron-vite build && node tools/docs/screenshots.ts [--rounds 2] [--per-round 100] [--class shirt]
//     [--out docs]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium } from '../../test/helpers/chromium.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    'per-round': { type: 'string', default: '100' },
    class: { type: 'string', default: 'shirt' },
    out: { type: 'string', default: 'docs' },
  },
});
const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');
const out = resolve(args.out);
const work = mkdtempSync(join(tmpdir(), 'winnow-screenshots-'));
const project = join(work, 'demo');
// The user state (current project, model registry) of this folder only, never the caller's.
const env = { ...process.env, WINNOW_HOME: join(work, 'home'), WINNOW_PROJECT: '' };

/** Runs `winnow <args>` to its end with its output on this terminal; throws on a non-zero exit. */
function winnow(...command: string[]): Promise<void> {
  console.log(`$ winnow ${command.join(' ')}`);
  const child = spawn(process.execPath, [BIN, ...command], { env, stdio: 'inherit' });
  return new Promise((done, fail) =>
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`winnow ${command[0]} exited with ${code}`)))),
  );
}

/** Starts `winnow serve` on a free port; the URL it prints (with its token) once it listens. */
async function serve(): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [BIN, 'serve', '--project', project, '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: server.stdout! })) {
    const url = /^Open (http\S+)/.exec(line)?.[1];
    if (url) return { server, url };
  }
  throw new Error('winnow serve ended without printing its URL');
}

/** The page as a PNG of at most 256 colours (a fraction of the size, the UI's flat colours kept). */
async function save(page: Page, name: string): Promise<void> {
  const png = await sharp(await page.screenshot())
    .png({ palette: true, colours: 256, compressionLevel: 9 })
    .toBuffer();
  writeFileSync(join(out, name), png);
  console.log(`Wrote ${join(out, name)} (${Math.round(png.length / 1024)} KiB).`);
}

/** Two animation frames: whatever was drawn last (the map's WebGL canvas) is on screen. */
const settle = (page: Page) =>
  page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');

let server: ChildProcess | undefined;
const browser = await launchChromium();
try {
  await winnow('demo', project);
  await winnow('run', '--project', project, '--rounds', args.rounds, '--per-round', args['per-round']);
  const served = await serve();
  server = served.server;
  mkdirSync(out, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  await page.goto(served.url);

  // The Map, coloured by label, once the engine has laid it out (minutes at 100,000 points, seconds here).
  await page.getByRole('link', { name: 'Map' }).click();
  await page.getByRole('region', { name: 'Legend' }).waitFor({ timeout: 600_000 });
  await settle(page);
  await save(page, 'map.png');

  // The viewer on the class's worst instance, opened by a double-click on its tile in Review.
  await page.getByRole('link', { name: 'Review' }).click();
  await page.getByLabel('Class', { exact: true }).selectOption({ label: args.class });
  const worst = page.getByLabel('Worst').locator('.tile').first();
  await worst.waitFor();
  await worst.dblclick();
  await page.getByLabel('Viewer details').getByLabel('Nearest real images').locator('figure').first().waitFor();
  await page.locator('.viewer-image').evaluate((img: HTMLImageElement) => img.decode());
  await page.waitForLoadState('networkidle');
  await save(page, 'viewer.png');
  await page.keyboard.press('Escape');

  // Label issues: the matrix and the instances of its largest disagreement.
  await page.getByRole('link', { name: 'Label issues' }).click();
  const matrix = page.getByRole('table', { name: 'Label issues matrix' });
  await matrix.waitFor();
  const cells = await matrix
    .locator('td.disagreement button')
    .evaluateAll((buttons) =>
      buttons.map((b) => ({ label: b.getAttribute('aria-label') ?? '', n: Number(b.textContent) })),
    );
  const largest = cells.sort((a, b) => b.n - a.n)[0];
  if (!largest) throw new Error('The run left no disagreement between pseudo-labels and suggested labels to show.');
  await matrix.getByRole('button', { name: largest.label }).click();
  await page.getByLabel('Cell instances').locator('.tile').first().waitFor();
  await page.waitForLoadState('networkidle');
  await save(page, 'label-issues.png');
} finally {
  await browser.close();
  // The server closes the project on SIGTERM; its folder goes once it has.
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server!.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
}
