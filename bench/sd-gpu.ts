// Stable Diffusion on the execution provider Winnow picks (CUDA on an NVIDIA machine whose
// onnxruntime-node was installed with its CUDA provider; else CPU, with the reason): images per second
// and peak GPU memory (nvidia-smi, sampled every 100 ms), for the tiny test fixtures and any real
// Optimum folders given.
//
//   node bench/sd-gpu.ts [--steps 20] [--images 8] [--batch 1] [folder …]
//
// Writes bench/results/sd-gpu.json and prints a table for the README.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { StableDiffusionGenerator } from '../src/main/models/sd/stableDiffusion.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '20' },
    images: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1' },
  },
});
const STEPS = Number(args.steps);
const IMAGES = Number(args.images);
const BATCH = Number(args.batch);
const fixtures = ['tiny-sd', 'tiny-sd-fp16'].map((f) => resolve(import.meta.dirname, '../test/fixtures/models', f));
const folders = [...fixtures, ...positionals.map((p) => resolve(p))];

function gpuMemoryMiB(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], {
      encoding: 'utf8',
    });
    return Number(out.trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

const rows: Record<string, unknown>[] = [];
for (const folder of folders) {
  const before = gpuMemoryMiB();
  const loadStart = performance.now();
  const generator = await StableDiffusionGenerator.load(folder);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  let peak = before;
  const sampler = setInterval(() => {
    const now = gpuMemoryMiB();
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  }, 100);
  const conditioning = (await generator.encodePrompt('a realistic photo of a bun')).conditioning;
  const items = Array.from({ length: IMAGES }, (_, seed) => ({ conditioning, seed }));
  const options = { guidanceScale: generator.defaults.guidanceScale, steps: STEPS, batchSize: BATCH };
  await generator.generate(items.slice(0, BATCH), options); // warm-up
  const start = performance.now();
  await generator.generate(items, options);
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  rows.push({
    folder,
    id: generator.id,
    provider: generator.provider,
    providerReason: generator.providerReason ?? null,
    scheduler: generator.schedulerKind,
    image: `${generator.imageSize.width}×${generator.imageSize.height}`,
    steps: STEPS,
    batch: BATCH,
    loadSeconds: Number(loadSeconds.toFixed(2)),
    imagesPerSecond: Number((IMAGES / seconds).toFixed(3)),
    gpuMemoryMiB: before === undefined || peak === undefined ? null : peak - before,
  });
  await generator.dispose();
}

console.log('| model | provider | image | steps | images/s | GPU memory |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows)
  console.log(
    `| ${r.id} | ${r.provider}${r.providerReason ? ` (${r.providerReason})` : ''} | ${r.image} | ${r.steps} | ${r.imagesPerSecond} | ${r.gpuMemoryMiB === null ? 'no nvidia-smi' : `${r.gpuMemoryMiB} MiB`} |`,
  );
mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(resolve(import.meta.dirname, 'results/sd-gpu.json'), `${JSON.stringify(rows, null, 2)}\n`);
