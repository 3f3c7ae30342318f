// Review screen speed in Debian's Chromium against `winnow serve`, on a seeded project with
// 100,000 synthetic instances in one class (real PNGs, random quality and contribution scores):
//  - opening the class: from the click to the best and worst strips shown with their images;
//  - scrolling the virtualized grid end to end: frame times, first with thumbnails made on
//    demand, then again with them cached;
//  - the embeddings map of the same instances (random 128-d features in 10 Gaussian clusters, as
//    the embedded encoder's): the engine's UMAP layout, opening the Map screen from its cache, and
//    frame times while panning it by mouse drags.
//
//   npm run build && node bench/review-speed.ts [--instances 100000] [--screens review,map]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { serve } from '../src/main/server/server.ts';
import { createEngine } from '../src/main/service/winnowService.ts';
import { addClass } from '../src/main/store/classes.ts';
import { recordImage } from '../src/main/store/images.ts';
import { initProject } from '../src/main/store/project.ts';
import { recordScores } from '../src/main/store/scores.ts';
import { saveFeatures } from '../src/main/store/features.ts';
import { gaussianClusters } from './gaussianClusters.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { reviewTimings } from './reviewTimings.ts';
import { type FrameStats, frameStats, median } from './stats.ts';

const { values: args } = parseArgs({
  options: { instances: { type: 'string', default: '100000' }, screens: { type: 'string', default: 'review,map' } },
});
const N = Number(args.instances);
const screens = new Set(args.screens.split(','));
const dir = mkdtempSync(join(tmpdir(), 'winnow-review-bench-'));
const project = initProject(join(dir, 'p'));
const { db } = project;
addClass(db, { name: 'other' });
const bun = addClass(db, { name: 'bun' });

console.error(`seeding ${N} instances…`);
let started = performance.now();
const insert = db.prepare(
  "INSERT INTO instances (image_hash, class_id, label_id, source, status, created_at) VALUES (?, ?, ?, 'generated', ?, '')",
);
const MAP_ENCODER = 'bench-encoder';
const mapFeatures = gaussianClusters(N, 10, 128, 0.5, 1).features;
let state = 1;
const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
for (let start = 0; start < N; start += 1000) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(1000, N - start) }, async (_, k) => {
      const i = start + k;
      const pixels = new Uint8Array(784).map((_, j) => (j * 7 + i * 13 + ((i >> (j % 16)) & 1) * 128) % 256);
      // The index in the first pixels makes every image, and so every hash, distinct.
      pixels.set([i & 255, (i >> 8) & 255, (i >> 16) & 255], 0);
      const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer();
      const hash = await project.images.put(png);
      return { hash, bytes: png.byteLength, i };
    }),
  );
  db.transaction(() => {
    for (const b of batch) {
      recordImage(db, { hash: b.hash, width: 28, height: 28, channels: 1, bytes: b.bytes });
      saveFeatures(db, MAP_ENCODER, [{ hash: b.hash, vector: mapFeatures.subarray(b.i * 128, (b.i + 1) * 128) }]);
      const score = random() * 2 - 1;
      const instanceId = Number(
        insert.run(b.hash, bun.id, bun.id, score >= -0.05 ? 'accepted' : 'rejected').lastInsertRowid,
      );
      // The review opens on the default ranking (quality); contribution as a scoring pass records it too.
      recordScores(db, [
        { instanceId, kind: 'quality', value: 2 * score - 1, runId: null, roundIndex: 0 },
        { instanceId, kind: 'contribution', value: score, runId: null, roundIndex: 0 },
      ]);
    }
  })();
}
db.exec('ANALYZE');
const seedSeconds = (performance.now() - started) / 1000;

const engine = createEngine(project);
let mapLayout: { seconds: number; fitted: number } | undefined;
if (screens.has('map')) {
  // Laid out (and cached) before the page opens it, as a first visit to the Map screen would.
  engine.subscribe((e) => {
    if (e.type === 'mapProgress' && e.done === e.total) console.error(`map: ${e.stage} done (${e.total})`);
  });
  const layout = await engine.api.mapPoints({});
  mapLayout = { seconds: layout.seconds, fitted: layout.fitted };
}
const { server, url } = await serve({ engine, port: 0, host: '127.0.0.1' });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
await page.goto(url);
await page.getByRole('link', { name: 'other' }).waitFor();

const review = screens.has('review') ? await reviewTimings(page, url, 'bun') : undefined;
const map = screens.has('map') ? await mapPasses() : undefined;

/**
 * Opens the Map screen (its layout cached) five times, from the click to the points drawn, then pans
 * it by mouse drags (8 px per mouse move, as a hand would) and records every frame's duration.
 */
async function mapPasses() {
  const opens: number[] = [];
  for (let r = 0; r < 5; r++) {
    await page.goto(`${new URL(url).origin}/#/`);
    await page.getByRole('link', { name: 'Map' }).waitFor();
    started = performance.now();
    await page.getByRole('link', { name: 'Map' }).click();
    await page.getByRole('region', { name: 'Legend' }).waitFor({ timeout: 600_000 });
    await page.evaluate('new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))');
    opens.push(performance.now() - started);
  }
  const box = (await page.getByLabel('Embeddings map').boundingBox()) as {
    x: number;
    y: number;
    width: number;
    height: number;
  };
  const pans = [];
  for (const direction of [1, -1]) {
    await page.evaluate(`(() => {
      const frames = { deltas: [], running: true };
      globalThis.mapFrames = frames;
      let last = performance.now();
      const step = (now) => { frames.deltas.push(now - last); last = now; if (frames.running) requestAnimationFrame(step); };
      requestAnimationFrame(step);
    })()`);
    const start = performance.now();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    for (let k = 1; k <= 150; k++)
      await page.mouse.move(box.x + box.width / 2 + direction * 8 * (k % 75), box.y + box.height / 2 + 3 * (k % 40));
    await page.mouse.up();
    const deltas = (await page.evaluate(
      '(() => { globalThis.mapFrames.running = false; return globalThis.mapFrames.deltas; })()',
    )) as number[];
    deltas.shift();
    pans.push(frameStats(deltas, (performance.now() - start) / 1000));
  }
  const renderer = await page.evaluate(`(() => {
    const gl = document.createElement('canvas').getContext('webgl');
    const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
    return gl ? gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) : 'no WebGL';
  })()`);
  return { opens, pans, renderer: String(renderer) };
}

await browser.close();
await new Promise((done) => server.close(done));
project.close();
rmSync(dir, { recursive: true, force: true });

const row = (name: string, s: FrameStats) =>
  `| ${name} | ${s.frames} | ${s.meanMs.toFixed(1)} | ${s.p95Ms.toFixed(1)} | ${s.over50} | ${s.seconds.toFixed(1)} |`;
console.log(`Seeded ${N} instances of one class in ${seedSeconds.toFixed(0)} s.`);
if (review) {
  console.log(
    `Opening the class (best and worst 12, images shown), 5 times: median ${median(review.openTimes).toFixed(0)} ms, max ${Math.max(...review.openTimes).toFixed(0)} ms.`,
  );
  console.log('\n| scroll pass | frames | mean frame (ms) | p95 frame (ms) | frames over 50 ms | seconds |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(row('300 px per frame over the first 60,000 px, thumbnails made on demand', review.readingCold));
  console.log(row('the same again, thumbnails cached', review.readingWarm));
  console.log(row('3,000 px per frame to the end (flung: tiles without images), first pass', review.cold));
  console.log(row('the same again', review.warm));
}
if (map && mapLayout) {
  console.log(
    `\nEmbeddings map of ${N} instances: UMAP layout ${mapLayout.seconds.toFixed(0)} s (${mapLayout.fitted < N ? `fitted on ${mapLayout.fitted}, the rest placed by transform` : 'fitted on all'}), then cached.`,
  );
  console.log(
    `Opening the Map screen from the cache (points fetched, drawn), 5 times: median ${median(map.opens).toFixed(0)} ms, max ${Math.max(...map.opens).toFixed(0)} ms. WebGL: ${map.renderer}.`,
  );
  console.log(
    '\n| pan pass (mouse drag, 8 px per move) | frames | mean frame (ms) | p95 frame (ms) | frames over 50 ms | seconds |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  map.pans.forEach((p, k) => console.log(row(k === 0 ? 'right and down' : 'left and down', p)));
}
