import type { Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { serve } from '../../src/main/server/server.ts';
import { createService } from '../../src/main/service/winnowService.ts';
import type { Project } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

// The built renderer in Debian's Chromium (playwright gives it a fresh profile), against
// `winnow serve` on the demo project.
const OUTPUT = resolve(import.meta.dirname, '../output');
let project: Project;
let server: Server;
let url: string;
let browser: Browser;

beforeAll(async () => {
  project = await createDemoProject(join(tempDir(), 'demo'));
  const started = await serve({ service: createService(project), images: project.images, port: 0, host: '127.0.0.1' });
  server = started.server;
  url = started.url;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((done) => server.close(done));
  project.close();
});

describe('the workstation in Chromium', () => {
  it('opens on the demo project and shows its classes, with no console errors', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.getByRole('cell', { name: 'ankle boot' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(10);
    expect(await page.locator('tbody tr').first().innerText()).toMatch(/t-shirt\s+20\s+100/);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'project.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
