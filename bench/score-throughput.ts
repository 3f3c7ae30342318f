// Throughput of the cross-fitted scores (issue #11's goal: ≥ 100,000 instances/s on 2 cores at
// 128-d × 10 classes against 1,000 real images), on Gaussian class clusters, plus the one-off
// costs (cross-fitting with the λ search, the influence solves, the neighbour reference).
//
//   node bench/score-throughput.ts [--instances 100000] [--real 1000] [--dim 128] [--classes 10]
//
// The machine's other load counts: run it on an idle machine for a figure to quote.
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crossFitHead, crossValidatedAccuracy, headProbabilities } from '../src/main/learn/headFit.ts';
import {
  classConditionalInfluenceScores,
  crossFittedLookahead,
  influenceReference,
  influenceScores,
} from '../src/main/learn/influence.ts';
import { labelQualityFromProbabilities } from '../src/main/learn/labelQuality.ts';
import { neighbourReference, neighbourScores } from '../src/main/learn/neighbours.ts';
import type { FeatureSet } from '../src/main/learn/softmaxHead.ts';
import { gaussianClusters } from './gaussianClusters.ts';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '100000' },
    real: { type: 'string', default: '1000' },
    dim: { type: 'string', default: '128' },
    classes: { type: 'string', default: '10' },
    lookahead: { type: 'string', default: '5000' },
  },
});
const N = Number(args.instances);
const V = Number(args.real);
const D = Number(args.dim);
const C = Number(args.classes);

const clusters = (n: number, seed: number): FeatureSet => gaussianClusters(n, C, D, 0.3, seed);

/**
 * Prints wall-clock throughput, and the process's CPU time: on a machine shared with other work,
 * instances per CPU-second times the cores the scorer can use bounds what an idle machine gives.
 */
function report(label: string, count: number | undefined, start: number, cpu: NodeJS.CpuUsage): void {
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(
    count === undefined
      ? `${label}: ${seconds.toFixed(2)} s (CPU ${cpuSeconds.toFixed(2)} s)`
      : `${label}: ${Math.round(count / seconds).toLocaleString('en')} instances/s wall, ` +
          `${Math.round(count / cpuSeconds).toLocaleString('en')} per CPU-second (${count} in ${seconds.toFixed(2)} s)`,
  );
}

function time<T>(label: string, count: number | undefined, f: () => T): T {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = f();
  report(label, count, start, cpu);
  return out;
}

async function timeAsync<T>(label: string, count: number | undefined, f: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const out = await f();
  report(label, count, start, cpu);
  return out;
}

// The load average puts a figure measured on a shared machine in context.
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
console.log(
  `${N} instances, ${V} real images, ${D}-d, ${C} classes, ${availableParallelism()} cores visible, load ${load}`,
);
const real = clusters(V, 1);
const set = clusters(N, 2);
const fit = time('cross-fit (λ search over the grid, K heads + full head)', undefined, () => crossFitHead(real, C));
console.log(`  λ = ${fit.lambda}, cross-validated accuracy ${crossValidatedAccuracy(fit).toFixed(3)}`);
const reference = time('influence solves (K CG solves)', undefined, () => influenceReference(fit));
const conditional = time('class-conditional solves (K·C more)', undefined, () =>
  influenceReference(fit, { classConditional: true }),
);
const neighbours = await timeAsync('neighbour reference', undefined, () => neighbourReference(fit));
await timeAsync('label quality (full head: self_confidence, margin, small loss)', N, async () =>
  labelQualityFromProbabilities(await headProbabilities(fit, set.features), set.labels, C),
);
await timeAsync('influence', N, () => influenceScores(fit, reference, set));
await timeAsync('class-conditional influence', N, () => classConditionalInfluenceScores(fit, conditional, set));
await timeAsync('realism + label vote (k-NN)', N, () => neighbourScores(fit, neighbours, set));
const L = Math.min(N, Number(args.lookahead));
const sub = { features: set.features.subarray(0, L * D), labels: set.labels.subarray(0, L) };
await timeAsync('look-ahead on the cross-fitted head (O(real) per instance)', L, () => crossFittedLookahead(fit, sub));
