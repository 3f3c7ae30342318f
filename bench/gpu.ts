// Winnow's GPU benchmark (issue #12), one command: for the CPU and every GPU provider this machine
// can start (models/providers.ts), each in its own child process with WINNOW_EXECUTION_PROVIDER set,
//   - images/s of the embedded generator (20 DDIM steps, guidance) per batch size;
//   - images/s of the tiny Stable Diffusion fixture (test/fixtures/models/tiny-sd), batch 1 and 4;
//   - the largest difference of each provider's images from the CPU's (same seeds);
//   - scoring (every head kind of scoring.ts, against 1,000 real images) and head training throughput;
// and the peer: the same denoiser in PyTorch (bench/gpu_peer.py), eager fp32 and bf16, on CUDA when
// torch finds it (else on the CPU). The learning graphs (scoring, training) run on the CPU in every
// provider's process: their GPU crossover is not measured yet, so the figure is the same work.
//
//   node bench/gpu.ts [--cpu-only] [--quick] [--batches 64,256,1024,2048] [--out <dir>]
//
// --quick: small sizes, seconds (what CI runs, with --cpu-only). Writes <dir>/gpu.json and gpu.md
// (default bench/results). A provider's process that dies is reported with its exit, not fatal.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HEAD_FIT_DEFAULTS } from '../src/main/learn/learnDefaults.ts';
import type { FeatureSet } from '../src/main/learn/softmaxHead.ts';
import { loadEmbeddedModels } from '../src/main/models/embeddedModels.ts';
import { chooseProvider, type ExecutionProvider, machineProbe } from '../src/main/models/providers.ts';
import { StableDiffusionGenerator } from '../src/main/models/sd/stableDiffusion.ts';
import { fitTrainedHead, scoreAll, scoringReference } from '../src/main/pipeline/scoring.ts';
import { gaussianClusters } from './gaussianClusters.ts';

const { values: args } = parseArgs({
  options: {
    'cpu-only': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    batches: { type: 'string' },
    out: { type: 'string', default: resolve(import.meta.dirname, 'results') },
    /** Internal: measure in this process and write the result to this file. */
    worker: { type: 'string' },
  },
});
const QUICK = args.quick;
const STEPS = QUICK ? 4 : 20;
const BATCHES = (args.batches ?? (QUICK ? '8' : '64,256,1024,2048')).split(',').map(Number);
/** The images compared across providers: the same seeds and conditionings everywhere. */
const COMPARED = 8;

interface Rate {
  readonly batch: number;
  readonly imagesPerSecond: number;
}
interface WorkerResult {
  readonly provider: ExecutionProvider;
  readonly reason: string;
  readonly generator: readonly Rate[];
  readonly sd: readonly Rate[];
  readonly scoringPerSecond: number;
  readonly trainingSeconds: number;
  /** Where the compared images were written (float pixels in [0, 255]). */
  readonly imagesFile: string;
}

async function measure(file: string): Promise<void> {
  const { generator, encoder } = await loadEmbeddedModels();
  const conditioning = (await generator.encodePrompt('a photo of a shirt')).conditioning;
  const items = (n: number) => Array.from({ length: n }, (_, seed) => ({ conditioning, seed }));
  const options = (batchSize: number) => ({ guidanceScale: generator.defaults.guidanceScale, steps: STEPS, batchSize });
  const rates: Rate[] = [];
  for (const batch of BATCHES) {
    await generator.generate(items(Math.min(batch, 8)), options(batch)); // warm-up: session and shapes
    const started = performance.now();
    await generator.generate(items(batch), options(batch));
    rates.push({ batch, imagesPerSecond: batch / ((performance.now() - started) / 1000) });
  }
  const compared = await generator.generate(items(COMPARED), options(COMPARED));
  const imagesFile = `${file}.images`;
  writeFileSync(imagesFile, Buffer.from(Float32Array.from(compared.flatMap((i) => Array.from(i.pixels))).buffer));

  const sd = await StableDiffusionGenerator.load(resolve(import.meta.dirname, '../test/fixtures/models/tiny-sd'));
  const sdConditioning = (await sd.encodePrompt('a photo of a bun')).conditioning;
  const sdRates: Rate[] = [];
  for (const batch of [1, 4]) {
    const run = () =>
      sd.generate(
        Array.from({ length: batch }, (_, seed) => ({ conditioning: sdConditioning, seed })),
        { guidanceScale: 7.5, steps: STEPS, batchSize: batch },
      );
    await run();
    const started = performance.now();
    await run();
    sdRates.push({ batch, imagesPerSecond: batch / ((performance.now() - started) / 1000) });
  }

  // Scoring and training on Gaussian class clusters of the sizes the issue names.
  const D = encoder.dim;
  const C = 10;
  const clusters = (n: number, seed: number): FeatureSet => gaussianClusters(n, C, D, 2, seed);
  const reference = await scoringReference(clusters(1000, 1), C, undefined, {
    lambda: HEAD_FIT_DEFAULTS.lambdaGrid[0],
  });
  const instances = clusters(QUICK ? 2000 : 100_000, 2);
  let started = performance.now();
  await scoreAll(reference, instances);
  const scoringPerSecond = instances.labels.length / ((performance.now() - started) / 1000);
  const training = clusters(QUICK ? 1000 : 10_000, 3);
  started = performance.now();
  fitTrainedHead(training, { features: new Float32Array(0), labels: new Int32Array(0) }, C, 1e-3);
  const trainingSeconds = (performance.now() - started) / 1000;

  const result: WorkerResult = {
    provider: generator.provider,
    reason: generator.providerReason,
    generator: rates,
    sd: sdRates,
    scoringPerSecond,
    trainingSeconds,
    imagesFile,
  };
  writeFileSync(file, JSON.stringify(result));
  await Promise.all([generator.dispose(), encoder.dispose(), sd.dispose()]);
}

if (args.worker !== undefined) {
  await measure(args.worker);
  process.exit(0);
}

const started = performance.now();
const choice = await chooseProvider(machineProbe());
const gpus = args['cpu-only']
  ? []
  : choice.statuses.filter((s) => s.available && s.provider !== 'cpu').map((s) => s.provider);
const work = mkdtempSync(join(tmpdir(), 'winnow-gpu-bench-'));
const runs: ({ provider: ExecutionProvider; error?: string } & Partial<WorkerResult>)[] = [];
for (const provider of ['cpu' as const, ...gpus]) {
  const file = join(work, `${provider}.json`);
  const child = spawnSync(
    process.execPath,
    [import.meta.filename, '--worker', file, '--batches', BATCHES.join(','), ...(QUICK ? ['--quick'] : [])],
    { env: { ...process.env, WINNOW_EXECUTION_PROVIDER: provider }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (child.status !== 0) {
    runs.push({ provider, error: `its process ended with ${child.signal ?? `code ${child.status}`}` });
    continue;
  }
  runs.push({ ...(JSON.parse(readFileSync(file, 'utf8')) as WorkerResult), provider });
}
const images = (run: Partial<WorkerResult>) =>
  run.imagesFile ? new Float32Array(readFileSync(run.imagesFile).buffer.slice(0)) : undefined;
const cpuImages = images(runs[0]!);
const diffs = new Map(
  runs.map((run) => {
    const other = images(run);
    if (!other || !cpuImages) return [run.provider, undefined];
    let max = 0;
    for (let i = 0; i < other.length; i++) max = Math.max(max, Math.abs(other[i]! - cpuImages[i]!));
    return [run.provider, max];
  }),
);
const maxDiff = (run: Partial<WorkerResult> & { provider: ExecutionProvider }) => diffs.get(run.provider);
rmSync(work, { recursive: true, force: true });

const peerDevice = args['cpu-only'] ? 'cpu' : 'cuda';
const peerRun = spawnSync(
  '/usr/bin/python3',
  [
    resolve(import.meta.dirname, 'gpu_peer.py'),
    '--device',
    peerDevice,
    '--batches',
    BATCHES.join(','),
    '--steps',
    String(STEPS),
  ],
  { encoding: 'utf8' },
);
const peer = (() => {
  try {
    return JSON.parse(peerRun.stdout.trim().split('\n').pop() ?? '') as {
      available: boolean;
      reason?: string;
      device?: string;
      gpu?: string | null;
      results?: { batch: number; precision: string; imagesPerSecond: number }[];
    };
  } catch {
    return {
      available: false,
      reason: `gpu_peer.py failed: ${(peerRun.stderr || peerRun.error?.message || '').trim().split('\n').pop()}`,
    };
  }
})();

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));
const lines = [
  `${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} threads; ${STEPS} DDIM steps with guidance; ${((performance.now() - started) / 60000).toFixed(1)} min. Provider chosen here: ${choice.provider} (${choice.reason}).`,
  '',
  `| provider | embedded generator, images/s at batch ${BATCHES.join(' / ')} | tiny SD, images/s at batch 1 / 4 | max pixel difference from the CPU (0–255) | scoring, instances/s | head training, s |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...runs.map((r) =>
    r.error
      ? `| ${r.provider} | ${r.error} | | | | |`
      : `| ${r.provider} (${r.reason}) | ${r.generator!.map((g) => fmt(g.imagesPerSecond)).join(' / ')} | ${r.sd!.map((g) => fmt(g.imagesPerSecond)).join(' / ')} | ${r.provider === 'cpu' ? '—' : (maxDiff(r)?.toPrecision(2) ?? '—')} | ${fmt(r.scoringPerSecond!)} | ${r.trainingSeconds!.toFixed(2)} |`,
  ),
  '',
  peer.available
    ? `PyTorch peer (${peer.device}${peer.gpu ? `, ${peer.gpu}` : ''}), same denoiser, images/s at batch ${BATCHES.join(' / ')}: fp32 ${peer
        .results!.filter((p) => p.precision === 'fp32')
        .map((p) => fmt(p.imagesPerSecond))
        .join(' / ')}; bf16 ${peer
        .results!.filter((p) => p.precision === 'bf16')
        .map((p) => fmt(p.imagesPerSecond))
        .join(' / ')}.`
    : `PyTorch peer: not run (${peer.reason}).`,
];
console.log(lines.join('\n'));
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'gpu.md'), `${lines.join('\n')}\n`);
writeFileSync(
  join(args.out, 'gpu.json'),
  `${JSON.stringify({ choice, steps: STEPS, batches: BATCHES, runs: runs.map((r) => ({ ...r, maxDiffFromCpu: maxDiff(r) })), peer }, null, 2)}\n`,
);
