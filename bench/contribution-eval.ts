// Evaluates contribution scoring against the baselines on Fashion-MNIST with the embedded models,
// over several seeds (mean ± standard error):
//  - detection: AUROC and precision at k of each score for flagging (a) generated images whose
//    pseudo-label the judge classifier (bench/models/judge.onnx, trained on all real labels, used
//    only here) rejects, and (b) real images with 20% injected wrong labels;
//  - downstream test accuracy per round of the head trained on real + what each method accepts;
//  - throughput of contribution scoring.
//
//   node bench/contribution-eval.ts [--seeds 3] [--rounds 5] [--per-round 200]
//
// Uses the same library functions as `winnow run` (learn/, models/), in memory.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { decide, indicesByLabel } from '../src/main/learn/acceptance.ts';
import { GradientCache, meanGradient } from '../src/main/learn/contribution.ts';
import { contributions } from '../src/main/learn/contributionGraph.ts';
import { classPrototypes, labelQuality, prototypeSimilarity } from '../src/main/learn/labelQuality.ts';
import { lossEstimates } from '../src/main/learn/lossEstimate.ts';
import { auroc, precisionAtK } from '../src/main/learn/metrics.ts';
import { trainHead } from '../src/main/learn/headTraining.ts';
import { accuracy, cloneHead, createHead, type FeatureSet, type SoftmaxHead } from '../src/main/learn/softmaxHead.ts';
import { perturb } from '../src/main/models/conditioning.ts';
import { EmbeddedEncoder } from '../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir, resourcesDir } from '../src/main/models/embeddedModels.ts';
import type { RawImage } from '../src/main/models/generator.ts';
import { fillGaussian, seededUniform } from '../src/main/models/random.ts';
import { readIdxImages } from '../src/main/pipeline/idx.ts';
import { concatSets } from '../src/main/pipeline/realData.ts';
import { formatMeanSe, meanSe } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    'per-round': { type: 'string', default: '200' },
    epsilons: { type: 'string', default: '0,1,2' },
    judge: { type: 'string', default: resolve(import.meta.dirname, 'models/judge.onnx') },
  },
});
const SEEDS = Number(args.seeds);
const ROUNDS = Number(args.rounds);
const PER_ROUND = Number(args['per-round']);
const EPSILONS = args.epsilons.split(',').map(Number);
/** The loss estimate's step sizes compared in the detection tables (the default is 1). */
const LOOKAHEAD_SWEEP = [0.25, 0.5, 2, 4];
const TRAIN = { epochs: 30, batchSize: 64, learningRate: 0.003, weightDecay: 1e-4 };

const generator = await EmbeddedGenerator.load(embeddedModelDir('fmnist-ddpm'));
const encoder = await EmbeddedEncoder.load(embeddedModelDir('fmnist-backbone'));
const judge = await ort.InferenceSession.create(args.judge);
const C = generator.classes.length;
const classConditioning = await Promise.all(
  generator.classes.map(async (name) => (await generator.encodePrompt(`a photo of a ${name}`)).conditioning),
);
const D = encoder.dim;

function idx(prefix: string, dir: string): { raws: RawImage[]; labels: Int32Array } {
  const { images, labels } = readIdxImages(
    join(dir, `${prefix}-images-idx3-ubyte.gz`),
    join(dir, `${prefix}-labels-idx1-ubyte.gz`),
  );
  const n = images.dims[0] as number;
  return {
    raws: Array.from({ length: n }, (_, i) => ({
      width: 28,
      height: 28,
      channels: 1 as const,
      pixels: images.data.subarray(i * 784, (i + 1) * 784),
    })),
    labels: Int32Array.from(labels),
  };
}

async function judgeLabels(images: readonly RawImage[]): Promise<Int32Array> {
  const out = new Int32Array(images.length);
  for (let start = 0; start < images.length; start += 500) {
    const chunk = images.slice(start, start + 500);
    const input = new Float32Array(chunk.length * 784);
    chunk.forEach((img, k) => img.pixels.forEach((p, j) => (input[k * 784 + j] = p / 255)));
    const logits = (await judge.run({ image: new ort.Tensor('float32', input, [chunk.length, 1, 28, 28]) })).logits
      ?.data as Float32Array;
    for (let k = 0; k < chunk.length; k++) {
      let best = 0;
      for (let c = 1; c < C; c++) if ((logits[k * C + c] as number) > (logits[k * C + best] as number)) best = c;
      out[start + k] = best;
    }
  }
  return out;
}

function subset(set: FeatureSet, indices: readonly number[]): FeatureSet {
  const features = new Float32Array(indices.length * D);
  indices.forEach((i, k) => features.set(set.features.subarray(i * D, (i + 1) * D), k * D));
  return { features, labels: Int32Array.from(indices, (i) => set.labels[i] as number) };
}

type Detection = Record<string, { auroc: number; precisionAtK: number }>;

/** Each score's percentile rank among the instances of the same pseudo-label (0 lowest, 1 highest). */
function rankWithinClass(scores: ArrayLike<number>, labels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(labels.length);
  for (const members of indicesByLabel(labels).values()) {
    members.sort((a, b) => (scores[a] as number) - (scores[b] as number));
    members.forEach((i, r) => (out[i] = members.length < 2 ? 0.5 : r / (members.length - 1)));
  }
  return out;
}

/**
 * The kinds this evaluation measures, from a head trained on the real training split and the
 * gradient of the validation split (the scoring before the cross-fitted head; bench/score-eval*.ts
 * measures the product's scoring).
 */
const HEAD_KINDS = [
  'contribution',
  'contribution_inner',
  'contribution_lookahead',
  'self_confidence',
  'normalized_margin',
  'small_loss',
  'prototype',
] as const;
type HeadKind = (typeof HEAD_KINDS)[number];

async function headScores(
  head: SoftmaxHead,
  G: Float32Array,
  prototypes: Float32Array,
  set: FeatureSet,
): Promise<Record<HeadKind, Float32Array>> {
  const quality = labelQuality(head, set);
  const { cosine, inner } = await contributions(head, G, set);
  return {
    contribution: cosine,
    contribution_inner: inner,
    contribution_lookahead: await lossEstimates(head, valSet, set),
    self_confidence: quality.selfConfidence,
    normalized_margin: quality.normalizedMargin,
    small_loss: quality.negativeLoss,
    prototype: prototypeSimilarity(prototypes, set, head.dim),
  };
}

async function detect(
  head: SoftmaxHead,
  G: Float32Array,
  prototypes: Float32Array,
  set: FeatureSet,
  bad: boolean[],
  seed: number,
): Promise<Detection> {
  const scores: Record<string, ArrayLike<number>> = {
    ...(await headScores(head, G, prototypes, set)),
  };
  for (const eta of LOOKAHEAD_SWEEP) scores[`lookahead η=${eta}`] = await lossEstimates(head, valSet, set, eta);
  scores.random = Float32Array.from({ length: bad.length }, seededUniform(seed));
  // Curators review class by class: each score also as its rank within the pseudo-label's class.
  for (const kind of Object.keys(scores)) scores[`${kind}@class`] = rankWithinClass(scores[kind]!, set.labels);
  return Object.fromEntries(
    Object.entries(scores).map(([kind, s]) => [kind, { auroc: auroc(s, bad), precisionAtK: precisionAtK(s, bad) }]),
  );
}

const METHODS = [
  'real only',
  'all synthetic',
  'contribution (online)',
  'contribution (offline)',
  'contribution_lookahead',
  'random',
  'prototype',
  'small_loss',
  'self_confidence',
  'normalized_margin',
] as const;
type Method = (typeof METHODS)[number];

const data = join(resourcesDir(), 'data', 'fashion-mnist');
const realTrain = idx('demo-train', data);
const realVal = idx('demo-val', data);
const test = idx('test', data);
const started = performance.now();
const trainSet: FeatureSet = { features: await encoder.encodePixels(realTrain.raws), labels: realTrain.labels };
const valSet: FeatureSet = { features: await encoder.encodePixels(realVal.raws), labels: realVal.labels };
const testSet: FeatureSet = { features: await encoder.encodePixels(test.raws), labels: test.labels };
// The controlled set: real images the demo does not use, 20% of labels replaced by another class.
const debianTrain = '/usr/share/datasets/fashion-mnist';
const controlledSource = existsSync(join(debianTrain, 'train-images-idx3-ubyte.gz'))
  ? idx('train', debianTrain)
  : undefined;
const prototypes = classPrototypes(trainSet, C, D);

const perSeed: {
  detectionGenerated: Detection;
  detectionInjected: Detection | null;
  wrongShare: number;
  accuracy: Record<Method, number[]>;
}[] = [];
for (let seed = 1; seed <= SEEDS; seed++) {
  console.error(`seed ${seed}: generating ${ROUNDS} × ${PER_ROUND} images`);
  const initial = await trainHead(createHead(C, D), trainSet, { ...TRAIN, epochs: 90, seed });
  const G0 = meanGradient(initial, valSet);
  // One pool of generated rounds per seed, shared by every method so they differ only in what they keep.
  const rounds: { set: FeatureSet; wrong: boolean[] }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const items = Array.from({ length: PER_ROUND }, (_, k) => {
      const c = k % C;
      const s = seed * 1_000_000 + r * 10_000 + k;
      const epsilon = EPSILONS[k % EPSILONS.length] as number;
      return {
        conditioning: perturb(classConditioning[c]!, epsilon, s),
        seed: s,
        c,
      };
    });
    const images = await generator.generate(items, { ...generator.defaults, batchSize: 64 });
    const judged = await judgeLabels(images);
    rounds.push({
      set: { features: await encoder.encodePixels(images), labels: Int32Array.from(items, (i) => i.c) },
      wrong: items.map((item, k) => judged[k] !== item.c),
    });
  }
  const pool = concatSets(rounds.map((r) => r.set));
  const wrong = rounds.flatMap((r) => r.wrong);
  const detectionGenerated = await detect(initial, G0, prototypes, pool, wrong, seed);

  let detectionInjected: Detection | null = null;
  if (controlledSource) {
    const random = seededUniform(seed * 31);
    const chosen = Array.from({ length: 1000 }, () => Math.floor(random() * controlledSource.labels.length));
    const flipped = chosen.map(() => random() < 0.2);
    const labels = Int32Array.from(chosen, (i, k) => {
      const y = controlledSource.labels[i] as number;
      return flipped[k] ? (y + 1 + Math.floor(random() * (C - 1))) % C : y;
    });
    const set = { features: await encoder.encodePixels(chosen.map((i) => controlledSource.raws[i]!)), labels };
    detectionInjected = await detect(initial, G0, prototypes, set, flipped, seed);
  }

  // Downstream: each method's head trains round after round on real + what it has accepted.
  const accuracyByMethod = {} as Record<Method, number[]>;
  for (const method of METHODS) {
    let head = cloneHead(initial);
    const cache = new GradientCache(0.1);
    cache.refresh(G0);
    const kept: FeatureSet[] = [];
    accuracyByMethod[method] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const { set } = rounds[r]!;
      const n = set.labels.length;
      const G = cache.refresh(meanGradient(head, valSet));
      // Baselines keep as many as online contribution keeps this round (matched budgets).
      const online = (await contributions(head, G, set)).cosine;
      const budget = decide({ kind: 'threshold', threshold: -0.05 }, online, set.labels).accepted.filter(
        Boolean,
      ).length;
      let keep: number[];
      if (method === 'real only') keep = [];
      else if (method === 'all synthetic') keep = Array.from({ length: n }, (_, i) => i);
      else if (method === 'contribution (online)' || method === 'contribution (offline)') {
        const scores = method === 'contribution (online)' ? online : (await contributions(initial, G0, set)).cosine;
        const accepted = decide({ kind: 'threshold', threshold: -0.05 }, scores, set.labels).accepted;
        keep = accepted.flatMap((a, i) => (a ? [i] : []));
      } else {
        const scores: ArrayLike<number> =
          method === 'random'
            ? Float32Array.from({ length: n }, seededUniform(seed * 97 + r))
            : (await headScores(head, G, prototypes, set))[method as HeadKind];
        keep = Array.from({ length: n }, (_, i) => i)
          .sort((a, b) => (scores[b] as number) - (scores[a] as number))
          .slice(0, budget);
      }
      kept.push(subset(set, keep));
      head = await trainHead(head, concatSets([trainSet, ...kept]), { ...TRAIN, seed: seed * 100 + r });
      accuracyByMethod[method].push(accuracy(head, testSet));
    }
  }
  perSeed.push({
    detectionGenerated,
    detectionInjected,
    wrongShare: wrong.filter(Boolean).length / wrong.length,
    accuracy: accuracyByMethod,
  });
}

// Throughput of contribution scoring alone (no feature extraction): 1,000,000 instances, 128-d × 10.
const n = 1_000_000;
const features = fillGaussian(new Float32Array(n * D), 5);
const labels = Int32Array.from({ length: n }, (_, i) => i % C);
const head = await trainHead(createHead(C, D), trainSet, { ...TRAIN, seed: 1 });
const G = meanGradient(head, valSet);
await contributions(head, G, { features: features.subarray(0, 1000 * D), labels: labels.subarray(0, 1000) });
const times: number[] = [];
for (let r = 0; r < 3; r++) {
  const t = performance.now();
  await contributions(head, G, { features, labels });
  times.push((performance.now() - t) / 1000);
}
const scoredPerSecond = n / Math.min(...times);
// The loss estimate costs n × V × C: timed against the demo's real validation split.
const lookaheadN = 20_000;
const lookaheadStart = performance.now();
await lossEstimates(head, valSet, {
  features: features.subarray(0, lookaheadN * D),
  labels: labels.subarray(0, lookaheadN),
});
const lookaheadPerSecond = lookaheadN / ((performance.now() - lookaheadStart) / 1000);

const fmt = (xs: number[], scale = 1, digits = 3) => formatMeanSe(meanSe(xs), digits, scale);

const kinds = [...HEAD_KINDS, 'random'];
const lines: string[] = [];
lines.push(
  `Machine: ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}; ${generator.id}, ${encoder.id}; ${SEEDS} seeds, ${ROUNDS} rounds × ${PER_ROUND} images (ε cycling ${EPSILONS.join(', ')}); ${((performance.now() - started) / 60000).toFixed(1)} min.`,
);
lines.push(
  '',
  `Detection (a): generated images the judge disagrees with (${fmt(
    perSeed.map((s) => s.wrongShare),
    100,
    1,
  )}% of them); low score = flagged.`,
  '',
  '| score | AUROC | precision@k |',
  '| --- | --- | --- |',
);
for (const k of kinds)
  lines.push(
    `| ${k} | ${fmt(perSeed.map((s) => s.detectionGenerated[k]!.auroc))} | ${fmt(perSeed.map((s) => s.detectionGenerated[k]!.precisionAtK))} |`,
  );
if (perSeed.every((s) => s.detectionInjected)) {
  lines.push(
    '',
    'Detection (b): 1,000 real training images (outside the demo subset) with 20% of labels replaced.',
    '',
    '| score | AUROC | precision@k |',
    '| --- | --- | --- |',
  );
  for (const k of kinds)
    lines.push(
      `| ${k} | ${fmt(perSeed.map((s) => s.detectionInjected![k]!.auroc))} | ${fmt(perSeed.map((s) => s.detectionInjected![k]!.precisionAtK))} |`,
    );
}
// Paired per seed: the loss estimate minus the best baseline on that seed.
const baselines = ['self_confidence', 'normalized_margin', 'small_loss', 'prototype'];
const lead = (part: 'detectionGenerated' | 'detectionInjected') =>
  perSeed.map((s) => s[part]!.contribution_lookahead!.auroc - Math.max(...baselines.map((b) => s[part]![b]!.auroc)));
lines.push(
  '',
  `Loss estimate minus the best baseline, paired by seed (AUROC): (a) ${fmt(lead('detectionGenerated'))}${
    perSeed.every((s) => s.detectionInjected) ? `, (b) ${fmt(lead('detectionInjected'))}` : ''
  }.`,
);
lines.push(
  '',
  'The loss estimate’s step size η (default 1) against detection AUROC:',
  '',
  '| η | (a) generated | (b) injected |',
  '| --- | --- | --- |',
);
for (const eta of [...LOOKAHEAD_SWEEP, 1].sort((a, b) => a - b)) {
  const key = eta === 1 ? 'contribution_lookahead' : `lookahead η=${eta}`;
  const b = perSeed.every((s) => s.detectionInjected) ? fmt(perSeed.map((s) => s.detectionInjected![key]!.auroc)) : '—';
  lines.push(`| ${eta} | ${fmt(perSeed.map((s) => s.detectionGenerated[key]!.auroc))} | ${b} |`);
}
lines.push(
  '',
  'Detection by each score’s rank within its pseudo-label’s class (AUROC):',
  '',
  '| score | (a) generated | (b) injected |',
  '| --- | --- | --- |',
);
for (const k of kinds) {
  const b = perSeed.every((s) => s.detectionInjected)
    ? fmt(perSeed.map((s) => s.detectionInjected![`${k}@class`]!.auroc))
    : '—';
  lines.push(`| ${k} | ${fmt(perSeed.map((s) => s.detectionGenerated[`${k}@class`]!.auroc))} | ${b} |`);
}
lines.push(
  '',
  'Downstream test accuracy (%, 10,000 test images) after each round:',
  '',
  `| method | ${Array.from({ length: ROUNDS }, (_, r) => `round ${r + 1}`).join(' | ')} |`,
  `| --- |${' --- |'.repeat(ROUNDS)}`,
);
for (const m of METHODS)
  lines.push(
    `| ${m} | ${Array.from({ length: ROUNDS }, (_, r) =>
      fmt(
        perSeed.map((s) => s.accuracy[m][r]!),
        100,
        1,
      ),
    ).join(' | ')} |`,
  );
lines.push(
  '',
  `Contribution scoring throughput (onnxruntime graph, CPU, excluding feature extraction, ${D}-d × ${C} classes): ${(scoredPerSecond / 1e6).toFixed(2)} M instances/s (cosine and inner product); loss estimate against ${valSet.labels.length} real samples: ${Math.round(lookaheadPerSecond).toLocaleString('en')} instances/s.`,
);
console.log(lines.join('\n'));
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  resolve(import.meta.dirname, 'results/contribution-eval.json'),
  `${JSON.stringify({ perSeed, scoredPerSecond, lookaheadPerSecond }, null, 2)}\n`,
);
writeFileSync(resolve(import.meta.dirname, 'results/contribution-eval.md'), `${lines.join('\n')}\n`);
await Promise.all([generator.dispose(), encoder.dispose(), judge.release()]);
