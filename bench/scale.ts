// One machine, many instances: builds the Fashion-MNIST demo project plus N synthetic instances
// (the 10,000 Fashion-MNIST test images reused, each with its index written into three corner pixels,
// which are black in Fashion-MNIST, so every image and hash differs) and runs each step as a user
// would, as a `winnow` child process under /usr/bin/time -v: wall time and peak RSS per step. Then
// the review screen (served as by `winnow serve`, in Debian's Chromium): opening a class of N/10
// instances and the grid's frame times (bench/reviewTimings.ts, as bench/review-speed.ts measures).
//
//   npx electron-vite build && nice -n 10 node bench/scale.ts --size 30000,100000 \
//     [--steps import,score,export,audit,review] [--rule confident] [--out bench/results/scale]
//
// --rule: `winnow score --rule`'s value (default: none given, so `winnow score`'s default rule).
//
// Writes <out>.json and <out>.md (one table, a row per size and step).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { demoClassName } from '../src/main/pipeline/demo.ts';
import { readIdxImages } from '../src/main/pipeline/idx.ts';
import { serve } from '../src/main/server/server.ts';
import { createEngine } from '../src/main/service/winnowService.ts';
import { openProject } from '../src/main/store/project.ts';
import { launchChromium } from '../test/helpers/chromium.ts';
import { type ReviewTimings, reviewTimings } from './reviewTimings.ts';
import { type FrameStats, median } from './stats.ts';

const STEPS = ['import', 'score', 'export', 'audit', 'review'] as const;
type Step = (typeof STEPS)[number];

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '1000000' },
    steps: { type: 'string', default: STEPS.join(',') },
    out: { type: 'string', default: 'bench/results/scale' },
    rule: { type: 'string' },
  },
});
const sizes = args.size.split(',').map(Number);
const steps = new Set(args.steps.split(',') as Step[]);
// Each size starts from a fresh project, and the review's strips show scored instances only.
if (steps.has('review') && !steps.has('score'))
  throw new Error('--steps review needs score too (the review screen shows scored instances): add score to --steps.');
const root = join(dirname(new URL(import.meta.url).pathname), '..');
const data = join(root, 'resources', 'data', 'fashion-mnist');

interface Measured {
  readonly size: number;
  readonly step: Step;
  readonly command: string;
  readonly seconds: number;
  /** Peak resident set size of the step's process, MB (the review: the class-open and frame times instead). */
  readonly peakRssMb: number | null;
  readonly review?: ReviewTimings;
}

/** Runs `winnow <args>` under /usr/bin/time -v: exit status, wall seconds and peak RSS (MB). */
function winnow(work: string, argv: readonly string[]): { seconds: number; peakRssMb: number } {
  const timing = join(work, 'time.txt');
  const started = performance.now();
  const run = spawnSync(
    '/usr/bin/time',
    ['-v', '-o', timing, process.execPath, join(root, 'bin', 'winnow.js'), ...argv],
    { env: { ...process.env, WINNOW_HOME: join(work, 'home') }, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0 && run.status !== 3)
    throw new Error(`winnow ${argv.join(' ')} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timing, 'utf8'))?.[1]);
  return { seconds, peakRssMb: kb / 1024 };
}

/** Writes N PNGs into an ImageFolder (one folder per demo class), `k` of them at a time. */
async function syntheticFolder(dir: string, n: number): Promise<void> {
  const names = (JSON.parse(readFileSync(join(data, 'classes.json'), 'utf8')) as string[]).map(demoClassName);
  for (const name of names) mkdirSync(join(dir, name), { recursive: true });
  const { images, labels } = readIdxImages(
    join(data, 'test-images-idx3-ubyte.gz'),
    join(data, 'test-labels-idx1-ubyte.gz'),
  );
  const [count, height, width] = images.dims as [number, number, number];
  const size = height * width;
  for (let start = 0; start < n; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, n - start) }, async (_, k) => {
        const i = start + k;
        const base = i % count;
        const pixels = Uint8Array.from(images.data.subarray(base * size, (base + 1) * size));
        pixels.set([i & 255, (i >> 8) & 255, (i >> 16) & 255], 0);
        const name = names[labels[base] as number] as string;
        await sharp(pixels, { raw: { width, height, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toFile(join(dir, name, `${i}.png`));
      }),
    );
    if (start % 50_000 === 0) console.error(`  wrote ${start + Math.min(1000, n - start)} of ${n} images`);
  }
}

async function review(project: string, className: string): Promise<{ seconds: number; timings: ReviewTimings }> {
  const opened = openProject(project);
  const engine = createEngine(opened);
  const { server, url } = await serve({ engine, port: 0, host: '127.0.0.1' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    await page.goto(url);
    const started = performance.now();
    const timings = await reviewTimings(page, url, className);
    return { seconds: (performance.now() - started) / 1000, timings };
  } finally {
    await browser.close();
    await new Promise((done) => server.close(done));
    opened.close();
  }
}

// Sizes measured before (another invocation) stay in the results, unless measured again now.
const out = resolve(root, args.out);
const results: Measured[] = existsSync(`${out}.json`)
  ? (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as Measured[]).filter((r) => !sizes.includes(r.size))
  : [];

const frames = (s: FrameStats) =>
  `${s.frames} frames, mean ${s.meanMs.toFixed(1)} ms, p95 ${s.p95Ms.toFixed(1)} ms, ${s.over50} over 50 ms`;

/**
 * Writes <out>.json and <out>.md with every size and step measured so far; called after each step,
 * so that a step failing later (hours into a run of 1,000,000) loses none of those before it.
 */
function writeResults(): string[] {
  results.sort((a, b) => a.size - b.size || STEPS.indexOf(a.step) - STEPS.indexOf(b.step));
  const lines = [
    `| instances | step | command | seconds | peak RSS (MB) |`,
    '| --- | --- | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.size.toLocaleString('en')} | ${r.step} | ${r.review ? r.command : `\`${r.command}\``} | ${r.seconds.toFixed(1)} | ${r.peakRssMb === null ? '—' : r.peakRssMb.toFixed(0)} |`,
    ),
    '',
    ...results.flatMap((r) =>
      r.review === undefined
        ? []
        : [
            `Review at ${r.size.toLocaleString('en')} instances (class t-shirt, ${(r.size / 10).toLocaleString('en')} instances): opening the class median ${median(r.review.openTimes).toFixed(0)} ms, max ${Math.max(...r.review.openTimes).toFixed(0)} ms (5 opens);`,
            `grid at 300 px per frame over 60,000 px: ${frames(r.review.readingCold)} (thumbnails made on demand), ${frames(r.review.readingWarm)} (cached);`,
            `flung end to end at 3,000 px per frame: ${frames(r.review.cold)}, again ${frames(r.review.warm)}.`,
            '',
          ],
    ),
  ];
  writeFileSync(`${out}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${out}.md`, `${lines.join('\n')}\n`);
  return lines;
}

for (const size of sizes) {
  const work = mkdtempSync(join(tmpdir(), `winnow-scale-${size}-`));
  try {
    const project = join(work, 'p');
    const folder = join(work, 'synthetic');
    console.error(`${size}: the demo project and ${size} synthetic images in ${work}`);
    winnow(work, ['demo', project]);
    await syntheticFolder(folder, size);
    const record = (step: Step, argv: string[]) => {
      console.error(`${size}: ${step}…`);
      const m = winnow(work, ['-p', project, ...argv]);
      results.push({ size, step, command: `winnow ${argv.join(' ').replaceAll(work, '…')}`, ...m });
      writeResults();
      console.error(`${size}: ${step} ${m.seconds.toFixed(1)} s, peak RSS ${m.peakRssMb.toFixed(0)} MB`);
    };
    if (steps.has('import')) record('import', ['import', 'synthetic', folder]);
    rmSync(folder, { recursive: true, force: true });
    if (steps.has('score')) record('score', ['score', ...(args.rule === undefined ? [] : ['--rule', args.rule])]);
    if (steps.has('export')) record('export', ['export', join(work, 'export'), '--status', 'all']);
    rmSync(join(work, 'export'), { recursive: true, force: true });
    if (steps.has('audit')) record('audit', ['audit', '--population', 'all']);
    if (steps.has('review')) {
      console.error(`${size}: review…`);
      const { seconds, timings } = await review(project, 't-shirt');
      results.push({
        size,
        step: 'review',
        command: 'the served review screen in Chromium, class t-shirt: 5 opens and 4 scroll passes (all of it)',
        seconds,
        peakRssMb: null,
        review: timings,
      });
      writeResults();
      console.error(`${size}: review: class opened in ${median(timings.openTimes).toFixed(0)} ms (median of 5)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

console.log(writeResults().join('\n'));
