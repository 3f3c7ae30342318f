// The review screen's timings in Chromium against a served project: opening a class (from the click to
// the best and worst strips shown with their images) and frame times while scrolling its virtualized
// grid. Shared by bench/review-speed.ts (a seeded class of 100,000) and bench/scale.ts (an imported
// project of up to a million).
import type { Page } from 'playwright-core';
import { type FrameStats, frameStats } from './stats.ts';

export interface ReviewTimings {
  /** Each opening of the class, in ms, in the order measured. */
  readonly openTimes: readonly number[];
  readonly readingCold: FrameStats;
  readonly readingWarm: FrameStats;
  readonly cold: FrameStats;
  readonly warm: FrameStats;
}

/**
 * The few browser globals the page-side functions use. This file is type-checked for Node, so they
 * are declared here rather than by pulling the whole DOM library into the engine's compilation.
 * (Page-side functions are serialised, so each names `globalThis` itself.)
 */
interface PageGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number }>;
    querySelector(selector: string): { scrollTop: number; clientHeight: number; scrollHeight: number };
  };
  requestAnimationFrame(callback: (now: number) => void): void;
}

/**
 * Opens the class `className` `opens` times from the project list (client-side navigation,
 * best/worst queries, 24 thumbnails decoded), then scrolls its grid: 300 px per frame over the
 * first 60,000 px (thumbnails made on demand, then cached) and 3,000 px per frame to the end, twice.
 */
export async function reviewTimings(page: Page, url: string, className: string, opens = 5): Promise<ReviewTimings> {
  const openTimes: number[] = [];
  for (let r = 0; r < opens; r++) {
    await page.goto(`${new URL(url).origin}/#/`);
    await page.getByRole('link', { name: className, exact: true }).waitFor({ timeout: 120_000 });
    const started = performance.now();
    await page.getByRole('link', { name: className, exact: true }).click();
    await page.waitForFunction(
      () => {
        const images = Array.from(
          (globalThis as unknown as PageGlobals).document.querySelectorAll(
            '[aria-label="Best"] img, [aria-label="Worst"] img',
          ),
        );
        return images.length === 24 && images.every((i) => i.complete && i.naturalWidth > 0);
      },
      undefined,
      { timeout: 120_000 },
    );
    openTimes.push(performance.now() - started);
  }
  return {
    openTimes,
    readingCold: await scrollPass(page, 300, 60_000),
    readingWarm: await scrollPass(page, 300, 60_000),
    cold: await scrollPass(page, 3000),
    warm: await scrollPass(page, 3000),
  };
}

/**
 * Scrolls the grid at a steady pace (px per frame) from the top to `untilPx` (or the end) and records
 * every frame's duration. Faster than a viewport per frame the grid is flung and shows tiles without
 * images; slower, every thumbnail is fetched and decoded.
 */
async function scrollPass(page: Page, pxPerFrame: number, untilPx = Infinity): Promise<FrameStats> {
  const { deltas, seconds } = await page.evaluate(
    async ({ pxPerFrame, untilPx }) => {
      const { document, requestAnimationFrame } = globalThis as unknown as PageGlobals;
      const grid = document.querySelector('[aria-label="All instances"]');
      grid.scrollTop = 0;
      const deltas: number[] = [];
      const start = performance.now();
      let last = start;
      await new Promise<void>((done) => {
        const step = (now: number) => {
          deltas.push(now - last);
          last = now;
          grid.scrollTop += pxPerFrame;
          if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight || grid.scrollTop >= untilPx) done();
          else requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      });
      deltas.shift(); // the first frame measures the wait before the pass, not a frame of it
      return { deltas, seconds: (performance.now() - start) / 1000 };
    },
    { pxPerFrame, untilPx },
  );
  return frameStats(deltas, seconds);
}
