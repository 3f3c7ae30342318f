// Which subset of one loop run's synthetic images trains the best head? One seed's 5 rounds × 200
// images of the demo with the `all` filter; then heads fitted as the loop fits them (real training
// images + a subset, the run's λ) on: everything, what the judge calls right (bench/judge.ts), the
// top share of each class by `quality`, per-class robust cuts and fixed thresholds on it, the head's
// argmax, confident learning's rule (thresholds from the real images' out-of-sample probabilities,
// as src/main/learn/labelQuality.ts computes them) and self-confidence cuts; test accuracy on the
// 10,000 Fashion-MNIST test images. An offline check of why a rule wins in bench/loop-filters.ts,
// not a result of its own (one seed, one final set, no acquisition feedback).
//
//   node bench/loop-subsets.ts <seed> [reuse [offline]]
//
// `reuse` scores the project the last call left in the temp folder instead of running the loop
// again; `offline` ranks by quality scored against the real data alone instead of the loop's last
// online scores. Prints one JSON line: per subset, test accuracy, images kept and judged-wrong kept.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossFitHead, headProbabilities } from '../src/main/learn/headFit.ts';
import { confidenceThresholds, confidentMargin } from '../src/main/learn/labelQuality.ts';
import { accuracy, type FeatureSet } from '../src/main/learn/softmaxHead.ts';
import { loadEmbeddedModels } from '../src/main/models/embeddedModels.ts';
import { createDemoProject } from '../src/main/pipeline/demo.ts';
import { featuresOf } from '../src/main/pipeline/featureCache.ts';
import { defaultLoopParams, startLoop } from '../src/main/pipeline/loop.ts';
import { allRealData, loadRealData } from '../src/main/pipeline/realData.ts';
import { fitTrainedHead, scoreAll, scoringReference } from '../src/main/pipeline/scoring.ts';
import { instancesOfRun } from '../src/main/store/instances.ts';
import { latestScoresOf } from '../src/main/store/scores.ts';
import { listRuns, metricsOf } from '../src/main/store/runs.ts';
import { openProject } from '../src/main/store/project.ts';
import { DEFAULT_RULE } from '../src/shared/runSettings.ts';
import { fashionTestSet } from './fashionTestSet.ts';
import { judgeClasses } from './judge.ts';

const seed = Number(process.argv[2] ?? 1);
const models = await loadEmbeddedModels();
const testSet = await fashionTestSet(models.encoder);
const dir = join(tmpdir(), `winnow-loop-subsets-${seed}`);
const reuse = process.argv[3] === 'reuse';
if (!reuse) rmSync(dir, { recursive: true, force: true });
const project = reuse ? openProject(dir) : await createDemoProject(dir);
const runId = reuse
  ? listRuns(project.db).at(-1)!.id
  : await startLoop(project, models, {
      ...defaultLoopParams,
      rounds: 5,
      perRound: 200,
      seed,
      filter: 'all',
      rule: DEFAULT_RULE,
    });
const real = await loadRealData(project, models.encoder);
const C = real.classes.length;
const D = models.encoder.dim;
const lambda = metricsOf(project.db, runId).find((m) => m.roundIndex === -1 && m.name === 'lambda')!.value;
const insts = instancesOfRun(project.db, runId);
const syn: FeatureSet = {
  features: await featuresOf(
    project,
    models.encoder,
    insts.map((i) => i.imageHash),
  ),
  labels: Int32Array.from(insts, (i) => real.indexOf.get(i.labelId)!),
};
const judged = await judgeClasses(insts.map((i) => project.images.pathOf(i.imageHash)));
const names = real.classes.map((c) => c.name);
console.log('classes', names.join(','));
const fit = crossFitHead(allRealData(real), C);
const t = confidenceThresholds(fit.outOfSample, fit.real.labels, C);
const P = await headProbabilities(fit, syn.features);
const margin = confidentMargin(P, syn.labels, t, C);
const online = latestScoresOf(project.db, 'quality');
const offlineScores = await scoreAll(await scoringReference(allRealData(real), C), syn, P);
const quality = new Map(
  insts.map((inst, i) => [inst.id, process.argv[4] === 'offline' ? offlineScores.quality[i]! : online.get(inst.id)!]),
);
const N = insts.length;
const pick = (keep: (i: number) => boolean): FeatureSet => {
  const rows = [...Array(N).keys()].filter(keep);
  const f = new Float32Array(rows.length * D);
  rows.forEach((r, j) => f.set(syn.features.subarray(r * D, (r + 1) * D), j * D));
  return { features: f, labels: Int32Array.from(rows, (r) => syn.labels[r]!) };
};
const topShare = (keep: number) => {
  const ok = new Set<number>();
  for (let c = 0; c < C; c++) {
    const m = [...Array(N).keys()]
      .filter((i) => syn.labels[i] === c)
      .sort((a, b) => quality.get(insts[b]!.id)! - quality.get(insts[a]!.id)!);
    m.slice(0, Math.ceil(keep * m.length)).forEach((i) => ok.add(i));
  }
  return (i: number) => ok.has(i);
};
const madRule = (z: number) => {
  const cut = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const v = [...Array(N).keys()]
      .filter((i) => syn.labels[i] === c)
      .map((i) => quality.get(insts[i]!.id)!)
      .sort((a, b) => a - b);
    const med = v[v.length >> 1]!;
    const mad = [...v].map((x) => Math.abs(x - med)).sort((a, b) => a - b)[v.length >> 1]!;
    cut[c] = med - z * 1.4826 * mad;
  }
  return (i: number) => quality.get(insts[i]!.id)! >= cut[syn.labels[i]!]!;
};
const argmax = (i: number) => {
  let b = 0;
  for (let c = 1; c < C; c++) if (P[i * C + c]! > P[i * C + b]!) b = c;
  return b;
};
const judgeName = (j: number) =>
  ['t-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'][j]!;
const judgeOk = (i: number) => judgeName(judged[i]!) === names[syn.labels[i]!];
const filters: Record<string, (i: number) => boolean> = {
  none: () => false,
  all: () => true,
  judge: judgeOk,
  q07: topShare(0.7),
  q09: topShare(0.9),
  q095: topShare(0.95),
  argmax: (i) => argmax(i) === syn.labels[i],
  confident: (i) => margin[i]! >= 0,
  selfconfT: (i) => P[i * C + syn.labels[i]!]! >= t[syn.labels[i]!]!,
  selfconfHalfT: (i) => P[i * C + syn.labels[i]!]! >= 0.5 * t[syn.labels[i]!]!,
  margin01: (i) => {
    const y = syn.labels[i]!;
    let o = 0;
    for (let c = 0; c < C; c++) if (c !== y) o = Math.max(o, P[i * C + c]!);
    return P[i * C + y]! - o >= -0.1;
  },
  confidentOrJudge: (i) => margin[i]! >= 0 && judgeOk(i),
  ...Object.fromEntries([1.5, 2, 3].map((z) => [`qMAD${z}`, madRule(z)])),
  ...Object.fromEntries(
    [-2, -3, -4, -5, -6].map((th) => [`qGE${th}`, (i: number) => quality.get(insts[i]!.id)! >= th]),
  ),
};
const out: Record<string, unknown> = { seed, judgeAgree: [...Array(N).keys()].filter(judgeOk).length / N };
for (const [name, keep] of Object.entries(filters)) {
  const subset = pick(keep);
  const head = fitTrainedHead(real.train, subset, C, lambda);
  const kept = subset.labels.length;
  const wrong = [...Array(N).keys()].filter((i) => keep(i) && !judgeOk(i)).length;
  out[name] = { acc: +(100 * accuracy(head, testSet)).toFixed(2), kept, wrongKept: wrong };
}
console.log(JSON.stringify(out));
project.close();
