// The loop as shipped, on the demo project, under several acceptance filters: test accuracy (the
// 10,000 Fashion-MNIST test images, which the loop never sees; its own validation split is what the
// contribution scores are measured against, so it would flatter them) of the head after each round,
// and the share of each round's images accepted. Mean ± standard error over seeds.
//
//   node bench/loop-filters.ts [--seeds 3] [--rounds 5] [--per-round 200] [--only <part of a filter's name>]
//
// Writes bench/results/loop-filters.md and .json.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AcceptanceRule } from '../src/main/learn/acceptance.ts';
import { accuracy, type FeatureSet } from '../src/main/learn/softmaxHead.ts';
import { loadEmbeddedModels, resourcesDir } from '../src/main/models/embeddedModels.ts';
import { createDemoProject } from '../src/main/pipeline/demo.ts';
import { readIdxImages } from '../src/main/pipeline/idx.ts';
import { defaultLoopParams, type LoopParams, startLoop } from '../src/main/pipeline/loop.ts';
import { loadCheckpoint } from '../src/main/store/features.ts';
import { metricsOf } from '../src/main/store/runs.ts';
import { DEFAULT_FILTER, DEFAULT_RULE, RULE_DEFAULTS, RUN_DEFAULTS } from '../src/shared/runSettings.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: String(RUN_DEFAULTS.rounds) },
    'per-round': { type: 'string', default: String(RUN_DEFAULTS.perRound) },
    /** Only the filters whose name contains this text. */
    only: { type: 'string', default: '' },
  },
});
const SEEDS = Number(args.seeds);
const ROUNDS = Number(args.rounds);
const PER_ROUND = Number(args['per-round']);

const classPercentile: AcceptanceRule = RULE_DEFAULTS['class-percentile'];
const FILTERS: { name: string; filter: LoopParams['filter']; rule: AcceptanceRule }[] = [
  { name: 'none (real only)', filter: 'none', rule: defaultLoopParams.rule },
  { name: 'all', filter: 'all', rule: defaultLoopParams.rule },
  { name: `${DEFAULT_FILTER}, class-percentile 0.7 (default)`, filter: DEFAULT_FILTER, rule: DEFAULT_RULE },
  { name: 'contribution, threshold −0.05 (BSGAL)', filter: 'contribution', rule: RULE_DEFAULTS.threshold },
  { name: 'contribution_lookahead, class-percentile 0.7', filter: 'contribution_lookahead', rule: classPercentile },
  { name: 'influence, class-percentile 0.7', filter: 'influence', rule: classPercentile },
  { name: 'self_confidence, class-percentile 0.7', filter: 'self_confidence', rule: classPercentile },
];

const chosen = FILTERS.filter((f) => f.name.includes(args.only));
const models = await loadEmbeddedModels();
const data = join(resourcesDir(), 'data', 'fashion-mnist');
const test = readIdxImages(join(data, 'test-images-idx3-ubyte.gz'), join(data, 'test-labels-idx1-ubyte.gz'));
const n = test.images.dims[0] as number;
const testSet: FeatureSet = {
  features: await models.encoder.encodePixels(
    Array.from({ length: n }, (_, i) => ({
      width: 28,
      height: 28,
      channels: 1 as const,
      pixels: test.images.data.subarray(i * 784, (i + 1) * 784),
    })),
  ),
  labels: Int32Array.from(test.labels),
};

const started = performance.now();
const results: Record<string, { accuracy: number[][]; accepted: number[][] }> = {};
for (const f of chosen) results[f.name] = { accuracy: [], accepted: [] };
for (let seed = 1; seed <= SEEDS; seed++) {
  for (const f of chosen) {
    const dir = join(tmpdir(), `winnow-loop-bench-${process.pid}-${seed}`);
    rmSync(dir, { recursive: true, force: true });
    const project = await createDemoProject(dir);
    const runId = await startLoop(project, models, {
      ...defaultLoopParams,
      rounds: ROUNDS,
      perRound: PER_ROUND,
      seed,
      filter: f.filter,
      rule: f.rule,
    });
    const metrics = metricsOf(project.db, runId);
    const C = models.generator.classes.length;
    results[f.name]!.accuracy.push(
      Array.from({ length: ROUNDS }, (_, r) =>
        accuracy({ classes: C, dim: models.encoder.dim, weights: loadCheckpoint(project.db, runId, r)!.head }, testSet),
      ),
    );
    results[f.name]!.accepted.push(
      Array.from(
        { length: ROUNDS },
        (_, r) => (metrics.find((m) => m.roundIndex === r && m.name === 'accepted_new')?.value ?? 0) / PER_ROUND,
      ),
    );
    project.close();
    rmSync(dir, { recursive: true, force: true });
    console.error(
      `seed ${seed}, ${f.name}: ${results[f.name]!.accuracy.at(-1)!
        .map((a) => (a * 100).toFixed(1))
        .join(' / ')}`,
    );
  }
}
await Promise.all([models.generator.dispose(), models.encoder.dispose()]);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const se = (xs: number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length);
const cell = (runs: number[][], r: number) => {
  const xs = runs.map((run) => run[r]! * 100);
  return `${mean(xs).toFixed(1)} ± ${se(xs).toFixed(1)}`;
};
const lines = [
  `${SEEDS} seeds, ${ROUNDS} rounds × ${PER_ROUND} images, embedded models, ${((performance.now() - started) / 60000).toFixed(1)} min. Test accuracy (%) after each round | accepted (% of the round's images):`,
  '',
  `| filter | ${Array.from({ length: ROUNDS }, (_, r) => `round ${r + 1}`).join(' | ')} | accepted |`,
  `| --- |${' --- |'.repeat(ROUNDS + 1)}`,
  ...chosen.map(
    (f) =>
      `| ${f.name} | ${Array.from({ length: ROUNDS }, (_, r) => cell(results[f.name]!.accuracy, r)).join(' | ')} | ${Array.from(
        { length: ROUNDS },
        (_, r) => mean(results[f.name]!.accepted.map((a) => a[r]! * 100)).toFixed(0),
      ).join(' / ')} |`,
  ),
];
// The goal's checks for the default: above real-only and all-synthetic at every round, and no round
// below the one before by more than one standard error.
const defaultName = chosen.find((f) => f.name.endsWith('(default)'))?.name;
if (defaultName !== undefined) {
  const at = (name: string, r: number) => results[name]?.accuracy.map((run) => run[r]! * 100) ?? [];
  const rounds = Array.from({ length: ROUNDS }, (_, r) => r);
  const beats = (other: string) =>
    results[other] === undefined
      ? 'not run'
      : rounds.every((r) => mean(at(defaultName, r)) > mean(at(other, r)))
        ? 'yes'
        : 'no';
  const drops = rounds
    .slice(1)
    .filter((r) => mean(at(defaultName, r)) < mean(at(defaultName, r - 1)) - se(at(defaultName, r - 1)));
  lines.push(
    '',
    `Default above real-only at every round: ${beats('none (real only)')}; above all-synthetic at every round: ${beats('all')}; rounds more than one SE below the one before: ${drops.length === 0 ? 'none' : drops.map((r) => r + 1).join(', ')}.`,
  );
}
console.log(lines.join('\n'));
// A partial run (--only) is printed, not saved over the full results.
if (args.only === '') {
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(resolve(import.meta.dirname, 'results/loop-filters.md'), `${lines.join('\n')}\n`);
  writeFileSync(resolve(import.meta.dirname, 'results/loop-filters.json'), `${JSON.stringify(results, null, 2)}\n`);
}
