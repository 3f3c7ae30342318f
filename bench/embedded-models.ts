// Measures the embedded models through Winnow's own runtime (onnxruntime-node, each DDIM step one
// call of the fused step graph): pseudo-label accuracy of generated images judged by a classifier trained on all real
// labels (bench/models/judge.onnx, used only here), its fall as the conditioning perturbation ε
// grows, the backbone's linear-probe accuracy, and throughput.
//
//   node bench/embedded-models.ts [--per-class 100] [--eps-per-class 50] [--seed 1]
//
// Needs Debian's dataset-fashion-mnist for the all-labels probe (skipped without it).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { trainHead } from '../src/main/learn/headTraining.ts';
import { accuracy, createHead } from '../src/main/learn/softmaxHead.ts';
import { perturb } from '../src/main/models/conditioning.ts';
import { EmbeddedEncoder } from '../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir, resourcesDir } from '../src/main/models/embeddedModels.ts';
import type { RawImage } from '../src/main/models/generator.ts';
import { readIdxImages } from '../src/main/pipeline/idx.ts';

const { values: args } = parseArgs({
  options: {
    'per-class': { type: 'string', default: '100' },
    'eps-per-class': { type: 'string', default: '50' },
    seed: { type: 'string', default: '1' },
  },
});
const perClass = Number(args['per-class']);
const epsPerClass = Number(args['eps-per-class']);
const seed = Number(args.seed);
const EPSILONS = [0, 0.25, 0.5, 1, 2];

const generator = await EmbeddedGenerator.load(embeddedModelDir('fmnist-ddpm'));
const encoder = await EmbeddedEncoder.load(embeddedModelDir('fmnist-backbone'));
const judge = await ort.InferenceSession.create(resolve(import.meta.dirname, 'models/judge.onnx'));
const C = generator.classes.length;
const classConditioning = await Promise.all(
  generator.classes.map(async (name) => (await generator.encodePrompt(`a photo of a ${name}`)).conditioning),
);
const { guidanceScale, steps } = generator.defaults;

async function judgeLabels(images: readonly RawImage[]): Promise<number[]> {
  const labels: number[] = [];
  for (let start = 0; start < images.length; start += 500) {
    const chunk = images.slice(start, start + 500);
    const input = new Float32Array(chunk.length * 784);
    chunk.forEach((img, k) => img.pixels.forEach((p, j) => (input[k * 784 + j] = p / 255)));
    const out = await judge.run({ image: new ort.Tensor('float32', input, [chunk.length, 1, 28, 28]) });
    const logits = out.logits?.data as Float32Array;
    for (let k = 0; k < chunk.length; k++) {
      let best = 0;
      for (let c = 1; c < C; c++) if ((logits[k * C + c] as number) > (logits[k * C + best] as number)) best = c;
      labels.push(best);
    }
  }
  return labels;
}

/** Generates `n` images of each class at radius ε; returns per-class accuracy under the judge. */
async function pseudoLabelAccuracy(
  n: number,
  epsilon: number,
): Promise<{ perClass: number[]; overall: number; seconds: number }> {
  const items = generator.classes.flatMap((name, c) =>
    Array.from({ length: n }, (_, i) => {
      const itemSeed = seed * 1_000_000 + c * 10_000 + i;
      return {
        conditioning: perturb(classConditioning[c]!, epsilon, itemSeed),
        seed: itemSeed,
        c,
      };
    }),
  );
  const started = performance.now();
  const images = await generator.generate(items, { guidanceScale, steps, batchSize: 64 });
  const seconds = (performance.now() - started) / 1000;
  const judged = await judgeLabels(images);
  const hits = new Array<number>(C).fill(0);
  items.forEach((item, k) => (hits[item.c]! += judged[k] === item.c ? 1 : 0));
  return { perClass: hits.map((h) => h / n), overall: hits.reduce((a, b) => a + b, 0) / (n * C), seconds };
}

function idxRaw(prefix: string, dir: string) {
  const { images, labels } = readIdxImages(
    join(dir, `${prefix}-images-idx3-ubyte.gz`),
    join(dir, `${prefix}-labels-idx1-ubyte.gz`),
  );
  const n = images.dims[0] as number;
  const raws: RawImage[] = Array.from({ length: n }, (_, i) => ({
    width: 28,
    height: 28,
    channels: 1,
    pixels: images.data.subarray(i * 784, (i + 1) * 784),
  }));
  return { raws, labels: Int32Array.from(labels) };
}

async function probe(
  train: { raws: RawImage[]; labels: Int32Array },
  test: { features: Float32Array; labels: Int32Array },
) {
  const features = await encoder.encodePixels(train.raws);
  const epochs = train.labels.length > 10_000 ? 30 : 300;
  const head = await trainHead(
    createHead(C, encoder.dim),
    { features, labels: train.labels },
    { epochs, batchSize: 256, learningRate: 0.003, weightDecay: 1e-4, seed },
  );
  return accuracy(head, test);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const results: Record<string, unknown> = {
  machine: `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}`,
  generator: generator.id,
  encoder: encoder.id,
  provider: generator.provider,
  defaults: { guidanceScale, steps },
};

const base = await pseudoLabelAccuracy(perClass, 0);
results.pseudoLabelAccuracy = {
  perClass: Object.fromEntries(generator.classes.map((c, i) => [c, base.perClass[i]])),
  overall: base.overall,
  imagesPerClass: perClass,
};
console.log(
  `\nPseudo-label accuracy at default settings (DDIM ${steps} steps, guidance ${guidanceScale}, ε = 0), ${perClass} images per class, judged by bench/models/judge.onnx:\n`,
);
console.log(`| class | accuracy |\n| --- | --- |`);
generator.classes.forEach((c, i) => console.log(`| ${c} | ${pct(base.perClass[i] as number)} |`));
console.log(`| **overall** | **${pct(base.overall)}** |`);

const byEpsilon: Record<string, number> = {};
console.log(`\nPseudo-label accuracy vs conditioning perturbation ε (${epsPerClass} images per class):\n`);
console.log(`| ε | accuracy |\n| --- | --- |`);
for (const epsilon of EPSILONS) {
  const r = epsilon === 0 && epsPerClass === perClass ? base : await pseudoLabelAccuracy(epsPerClass, epsilon);
  byEpsilon[String(epsilon)] = r.overall;
  console.log(`| ${epsilon} | ${pct(r.overall)} |`);
}
results.accuracyByEpsilon = byEpsilon;

const data = join(resourcesDir(), 'data', 'fashion-mnist');
const testSet = idxRaw('test', data);
let started = performance.now();
const testFeatures = await encoder.encodePixels(testSet.raws);
const encodeSeconds = (performance.now() - started) / 1000;
const test = { features: testFeatures, labels: testSet.labels };
const probes: Record<string, number> = { '20 labels per class': await probe(idxRaw('demo-train', data), test) };
const debian = '/usr/share/datasets/fashion-mnist';
if (existsSync(join(debian, 'train-images-idx3-ubyte.gz')))
  probes['all 60,000 labels'] = await probe(idxRaw('train', debian), test);
results.linearProbe = probes;
console.log(`\nBackbone linear probe (softmax head on frozen features), Fashion-MNIST test accuracy:\n`);
console.log(`| labels | test accuracy |\n| --- | --- |`);
for (const [k, v] of Object.entries(probes)) console.log(`| ${k} | ${pct(v)} |`);

// Throughput: one batch of 64 at the default settings, after a warm-up batch.
const coat = (await generator.encodePrompt('a photo of a coat')).conditioning;
const batch = Array.from({ length: 64 }, (_, i) => ({
  conditioning: coat,
  seed: i,
}));
await generator.generate(batch.slice(0, 8), { guidanceScale, steps });
started = performance.now();
await generator.generate(batch, { guidanceScale, steps, batchSize: 64 });
const genPerSecond = 64 / ((performance.now() - started) / 1000);
results.throughput = {
  generationImagesPerSecond: genPerSecond,
  featureImagesPerSecond: testSet.raws.length / encodeSeconds,
  provider: generator.provider,
};
console.log(`\nThroughput on ${generator.provider} (${results.machine}):\n`);
console.log(`| what | images per second |\n| --- | --- |`);
console.log(`| generation, batch 64, ${steps} DDIM steps, guidance ${guidanceScale} | ${genPerSecond.toFixed(1)} |`);
console.log(
  `| feature extraction, batch 256 (10,000 test images) | ${(testSet.raws.length / encodeSeconds).toFixed(0)} |`,
);

mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'results/embedded-models.json'), `${JSON.stringify(results, null, 2)}\n`);
await Promise.all([generator.dispose(), encoder.dispose(), judge.release()]);
