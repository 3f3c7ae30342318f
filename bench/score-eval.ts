// How well each of Winnow's score kinds flags wrong labels on data Winnow was not tuned on, with
// every tunable setting chosen leave-one-dataset-out (issue #11, deliverable 7).
//
// For each dataset × noise rate × seed, tools/datasets/build_datasets.py writes a labelled set (20
// real training and 100 real validation images per class, and a pool of 1,000 "synthetic" images
// of which 20% or 40% carry a wrong label; the digits have 50 validation images per class). The
// harness then does what a user does, through Winnow's own CLI in child processes: `winnow init`,
// `import real --split train`, `import real --split val`, `import synthetic`, `score`, and
// `export --status all --format jsonl`, and reads every score of every kind from manifest.jsonl
// (and the top-level `score` of the default ranking when exports carry one). Per kind: AUROC
// (a low score flags) and precision at k (k = the number of wrong labels), mean ± SE over seeds.
// Beside them, the no-model baseline the issue names: the cosine of an image's raw pixels to the
// mean raw image of its label's real images (`pixel_prototype`: the training split, as Winnow's
// `prototype`; `pixel_prototype_all`: training and validation splits).
//
// Settings (bench/score-eval-settings.ts) are swept one at a time on every run; for each dataset,
// each takes the value with the best mean AUROC on the OTHER datasets, and that dataset's figures
// are read from a run with those values. The datasets' images are ones Winnow's embedded backbone
// never saw in training (Fashion-MNIST's test split; digits and letters are other domains).
//
// Fashion-MNIST also has the generated case: the same real images, and 1,000 images made by
// `winnow generate` (embedded generator, 100 per class, ε cycling 0, 1, 2), of which those the
// judge (bench/models/judge.onnx, trained on all 60,000 labelled training images, 91.2% test
// accuracy) puts in another class count as wrong; the judge's own errors cap these figures.
//
//   node bench/score-eval.ts [--quick] [--seeds 3] [--datasets fashion,digits,fonts] [--noise 0.2,0.4]
//                            [--skip-generated] [--work <parent dir>] [--keep] [--encoder <name>]
//
// --quick: one seed (a smoke run). Needs /usr/bin/python3 and the Debian packages listed in
// tools/datasets/README.md. Writes bench/results/score-eval.md and .json.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { auroc, precisionAtK } from '../src/main/learn/metrics.ts';
import {
  chooseLeaveOneOut,
  type Combo,
  comboFlags,
  comboKey,
  pixelPrototypeScores,
  sweepCombos,
} from './score-eval-lib.ts';
import {
  buildSet,
  checkDatasets,
  exportManifest,
  type ManifestRow,
  projectWithReal,
  readTruth,
  winnowCli,
} from './labelled-sets.ts';
import { JUDGE_TEST_ACCURACY, judgeClasses, PIXELS, readGrey } from './judge.ts';
import { TUNABLE_SETTINGS, type TunableSetting } from './score-eval-settings.ts';
import { formatMeanSe, type MeanSe, meanSe } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '3' },
    datasets: { type: 'string', default: 'fashion,digits,fonts' },
    noise: { type: 'string', default: '0.2,0.4' },
    'skip-generated': { type: 'boolean', default: false },
    work: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
    encoder: { type: 'string' },
  },
});

const ROOT = resolve(import.meta.dirname, '..');
const SEEDS = args.quick ? 1 : Number(args.seeds);
const datasets = args.datasets.split(',');
const noiseRates = args.noise.split(',').map(Number);
const GENERATED = 'generated';
const noiseLabel = (n: number) => `${Math.round(n * 100)}%`;
/** The columns of a dataset's table: its noise rates, and the generated case for Fashion-MNIST. */
const conditionsOf = (dataset: string) => [
  ...noiseRates.map(noiseLabel),
  ...(dataset === 'fashion' && !args['skip-generated'] ? [GENERATED] : []),
];
checkDatasets(datasets);
mkdirSync(args.work, { recursive: true });
/** A fresh folder of this run's sets, projects and exports (removed at the end unless --keep). */
const WORK = mkdtempSync(join(resolve(args.work), 'winnow-score-eval-'));
const winnow = winnowCli(WORK);

// Settings whose flag this build's `winnow score` does not take stay at Winnow's default.
const scoreHelp = winnow(['score', '--help']).stdout;
const settings: TunableSetting[] = TUNABLE_SETTINGS.filter((s) => scoreHelp.includes(s.flag));
const unavailable = TUNABLE_SETTINGS.filter((s) => !settings.includes(s));
for (const s of unavailable)
  console.error(`note: \`winnow score\` takes no ${s.flag}: ${s.name} stays at Winnow's default.`);
const encoderFlags = args.encoder ? ['--encoder', args.encoder] : [];

type Detection = Record<string, { auroc: number; precisionAtK: number }>;
interface Task {
  readonly dataset: string;
  /** A noise rate ('20%') or GENERATED. */
  readonly condition: string;
  readonly seed: number;
  readonly project: string;
  /** Each pool instance's key in the export (see keyOf) and whether its label is wrong. */
  readonly truth: readonly { readonly key: string; readonly wrong: boolean }[];
  readonly keyOf: (row: ManifestRow) => string;
  /** The harness's own baselines, in truth order. */
  readonly baselines: Record<string, Float32Array>;
  /** comboKey → detection of every kind. */
  readonly runs: Map<string, Detection>;
  /** comboKey → what `winnow score` printed. */
  readonly scoreOutput: Map<string, string>;
}

async function realPixels(dir: string, splits: readonly string[], classes: readonly string[]) {
  const pixels: number[] = [];
  const labels: number[] = [];
  for (const split of splits)
    for (const [c, name] of classes.entries())
      for (const f of readdirSync(join(dir, 'real', split, name)).sort()) {
        pixels.push(...(await readGrey(join(dir, 'real', split, name, f))));
        labels.push(c);
      }
  return { pixels: Float32Array.from(pixels), labels: Int32Array.from(labels) };
}

/** The raw-pixel baselines of pool images (files, with their given labels) against the set's real images. */
async function pixelBaselines(
  dir: string,
  classes: readonly string[],
  files: readonly string[],
  labels: readonly string[],
) {
  const pool = {
    pixels: new Float32Array(files.length * PIXELS),
    labels: Int32Array.from(labels, (l) => classes.indexOf(l)),
  };
  for (const [i, f] of files.entries()) pool.pixels.set(await readGrey(f), i * PIXELS);
  const train = await realPixels(dir, ['train'], classes);
  const all = await realPixels(dir, ['train', 'val'], classes);
  return {
    pixel_prototype: pixelPrototypeScores(train, pool, classes.length, PIXELS),
    pixel_prototype_all: pixelPrototypeScores(all, pool, classes.length, PIXELS),
  };
}

/** Injected noise: the set's pool imported with `winnow import synthetic`, wrong labels from truth.jsonl. */
async function prepareInjected(dataset: string, noise: number, seed: number): Promise<Task> {
  const name = `${dataset}-noise${noise}-seed${seed}`;
  const dir = join(WORK, 'data', name);
  const classes = buildSet(dataset, dir, seed, noise);
  const truth = readTruth(dir);
  const project = projectWithReal(winnow, join(WORK, 'projects', name), dir);
  winnow(['import', 'synthetic', join(dir, 'synthetic')], project);
  return {
    dataset,
    condition: noiseLabel(noise),
    seed,
    project,
    truth: truth.map((t) => ({ key: resolve(dir, t.file), wrong: t.wrong })),
    keyOf: (row) => resolve(row.source_path ?? ''),
    baselines: await pixelBaselines(
      dir,
      classes,
      truth.map((t) => join(dir, t.file)),
      truth.map((t) => t.label),
    ),
    runs: new Map(),
    scoreOutput: new Map(),
  };
}

/** Generated: 100 images per class by `winnow generate` (ε 0, 1, 2), wrong where the judge disagrees. */
async function prepareGenerated(seed: number): Promise<Task> {
  const name = `fashion-generated-seed${seed}`;
  const dir = join(WORK, 'data', name);
  const classes = buildSet('fashion', dir, seed, 0);
  const project = projectWithReal(winnow, join(WORK, 'projects', name), dir);
  const epsilons = [0, 1, 2];
  for (const [c, cls] of classes.entries())
    for (const [j, epsilon] of epsilons.entries()) {
      const count = Math.floor(100 / epsilons.length) + (j < 100 % epsilons.length ? 1 : 0);
      const first = seed * 1_000_000 + c * 10_000 + j * 1_000;
      winnow(
        ['generate', '--class', cls, '--count', String(count), '--seed', String(first), '--epsilon', String(epsilon)],
        project,
      );
    }
  const out = join(WORK, 'exports', `${name}-images`);
  const rows = exportManifest(winnow, project, out, ['imagefolder', 'jsonl']);
  const files = rows.map((r) => join(out, r.file_name!));
  const judged = await judgeClasses(files);
  const task: Task = {
    dataset: 'fashion',
    condition: GENERATED,
    seed,
    project,
    truth: rows.map((r, i) => ({ key: r.image_hash, wrong: judged[i] !== classes.indexOf(r.label) })),
    keyOf: (row) => row.image_hash,
    baselines: await pixelBaselines(
      dir,
      classes,
      files,
      rows.map((r) => r.label),
    ),
    runs: new Map(),
    scoreOutput: new Map(),
  };
  rmSync(out, { recursive: true, force: true });
  return task;
}

/** Scores the task's project under a combo, exports every instance and measures every kind. */
function scoreRun(task: Task, combo: Combo): Detection {
  const key = comboKey(combo, settings);
  const known = task.runs.get(key);
  if (known) return known;
  // The scoring head is fitted deterministically (no seed): seeds vary the datasets only.
  const scored = winnow(['score', ...encoderFlags, ...comboFlags(combo, settings)], task.project);
  const out = join(WORK, 'exports', `${task.dataset}-${task.condition}-${task.seed}-${key || 'default'}`);
  rmSync(out, { recursive: true, force: true });
  const rows = exportManifest(winnow, task.project, out);
  rmSync(out, { recursive: true, force: true });
  const byKey = new Map(rows.map((r) => [task.keyOf(r), r]));
  const kinds = new Map<string, Float32Array>();
  const bad = task.truth.map((t) => t.wrong);
  task.truth.forEach((t, i) => {
    const row = byKey.get(t.key);
    if (!row) throw new Error(`${t.key} of ${task.project} is not in the export: was it imported?`);
    const values = { ...(typeof row.score === 'number' ? { score: row.score } : {}), ...row.scores };
    for (const [kind, v] of Object.entries(values)) {
      if (!kinds.has(kind)) kinds.set(kind, new Float32Array(task.truth.length).fill(NaN));
      kinds.get(kind)![i] = v;
    }
  });
  for (const [kind, values] of Object.entries(task.baselines)) kinds.set(kind, values);
  const detection: Detection = {};
  for (const [kind, values] of kinds) {
    if (values.some(Number.isNaN)) throw new Error(`Some instances of ${task.project} have no ${kind} score.`);
    detection[kind] = { auroc: auroc(values, bad), precisionAtK: precisionAtK(values, bad) };
  }
  task.runs.set(key, detection);
  task.scoreOutput.set(key, `${scored.stderr.trim()}\n${scored.stdout.trim()}`.trim());
  return detection;
}

const started = performance.now();
const tasks: Task[] = [];
for (const dataset of datasets)
  for (const condition of conditionsOf(dataset))
    for (let seed = 1; seed <= SEEDS; seed++) {
      const t0 = performance.now();
      const noise = noiseRates.find((n) => noiseLabel(n) === condition);
      const task = noise === undefined ? await prepareGenerated(seed) : await prepareInjected(dataset, noise, seed);
      for (const combo of sweepCombos(settings)) scoreRun(task, combo);
      tasks.push(task);
      console.error(
        `${dataset} ${condition} seed ${seed}: ${((performance.now() - t0) / 1000).toFixed(1)} s (${task.runs.size} scorings)`,
      );
    }
const wrongShare = (dataset: string, condition: string) =>
  meanSe(
    tasks
      .filter((t) => t.dataset === dataset && t.condition === condition)
      .map((t) => t.truth.filter((x) => x.wrong).length / t.truth.length),
  );

// Leave one dataset out: each dataset's settings come from the others' sweeps only.
const { chosen, evidence } = chooseLeaveOneOut(settings, datasets, (dataset, combo, kind) =>
  tasks.filter((t) => t.dataset === dataset).map((t) => scoreRun(t, combo)[kind]?.auroc ?? NaN),
);
for (const t of tasks) scoreRun(t, chosen[t.dataset]!);
const wallSeconds = (performance.now() - started) / 1000;

type Summary = Record<string, Record<string, Record<string, { auroc: MeanSe; precisionAtK: MeanSe }>>>;
function summarize(comboOf: (dataset: string) => Combo): Summary {
  const out: Summary = {};
  for (const dataset of datasets) {
    out[dataset] = {};
    for (const condition of conditionsOf(dataset)) {
      const runs = tasks
        .filter((t) => t.dataset === dataset && t.condition === condition)
        .map((t) => t.runs.get(comboKey(comboOf(dataset), settings))!);
      out[dataset][condition] = Object.fromEntries(
        Object.keys(runs[0]!).map((kind) => [
          kind,
          {
            auroc: meanSe(runs.map((r) => r[kind]!.auroc)),
            precisionAtK: meanSe(runs.map((r) => r[kind]!.precisionAtK)),
          },
        ]),
      );
    }
  }
  return out;
}
const heldOut = summarize((d) => chosen[d]!);
const atDefaults = summarize(() => ({}));

const encoderLine = (tasks[0]?.scoreOutput.get('')?.split('\n')[0] ?? '').split(' (')[0]!;
const machine = `${cpus()[0]?.model ?? 'unknown CPU'} × ${availableParallelism()}`;
const command = `node bench/score-eval.ts ${process.argv.slice(2).join(' ')}`.trim();

const md: string[] = [];
md.push(
  `Command: \`${command}\`; ${(wallSeconds / 60).toFixed(1)} min on ${machine}; encoder: ${encoderLine}; ` +
    `${SEEDS} seed(s) per dataset × condition; mean ± SE over seeds.`,
  '',
  'Wrong labels flagged by each score (low score = flagged): AUROC and precision at k (k = the number of wrong labels). ' +
    'Every figure for a dataset comes from settings chosen on the other datasets (below). ' +
    '`pixel_prototype`: cosine of raw pixels to the mean real training image of the label (no model); ' +
    '`pixel_prototype_all`: the same with training and validation images.',
  '',
);
const first = noiseLabel(noiseRates[0]!);
const kinds = Object.keys(heldOut[datasets[0]!]![first]!);
md.push(
  `AUROC at ${first} noise, all datasets:`,
  '',
  `| score | ${datasets.join(' | ')} |`,
  `| --- |${datasets.map(() => ' --- |').join('')}`,
  ...kinds.map((k) => `| ${k} | ${datasets.map((d) => formatMeanSe(heldOut[d]![first]![k]!.auroc)).join(' | ')} |`),
  '',
);
for (const d of datasets) {
  const conditions = conditionsOf(d);
  md.push(`### ${d}`, '');
  if (conditions.includes(GENERATED))
    md.push(
      `${GENERATED}: images made by \`winnow generate\` whose pseudo-label the judge (test accuracy ${(JUDGE_TEST_ACCURACY * 100).toFixed(1)}%) ` +
        `disagrees with count as wrong: ${formatMeanSe(wrongShare(d, GENERATED))} of them. The judge's own errors cap these figures.`,
      '',
    );
  md.push(`| score | ${conditions.map((c) => `AUROC (${c}) | precision@k (${c})`).join(' | ')} |`);
  md.push(`| --- |${conditions.map(() => ' --- | --- |').join('')}`);
  for (const k of kinds)
    md.push(
      `| ${k} | ${conditions
        .map((c) => {
          const r = heldOut[d]![c]![k]!;
          return `${formatMeanSe(r.auroc)} | ${formatMeanSe(r.precisionAtK)}`;
        })
        .join(' | ')} |`,
    );
  md.push('');
}
md.push('### Settings, chosen leave-one-dataset-out', '');
if (settings.length === 0) md.push('No tunable setting is settable through `winnow score` in this build.', '');
else {
  md.push(`| held-out dataset | ${settings.map((s) => `${s.name} (\`${s.flag}\`, by ${s.selectedBy})`).join(' | ')} |`);
  md.push(`| --- |${settings.map(() => ' --- |').join('')}`);
  for (const d of datasets) md.push(`| ${d} | ${settings.map((s) => chosen[d]![s.name]).join(' | ')} |`);
  md.push('', 'Mean AUROC of the selecting kind on the other datasets, per candidate:', '');
  for (const s of settings) {
    md.push(`| ${s.name}: held-out dataset | ${s.candidates.map(String).join(' | ')} |`);
    md.push(`| --- |${s.candidates.map(() => ' --- |').join('')}`);
    for (const d of datasets)
      md.push(`| ${d} | ${s.candidates.map((v) => evidence[d]![s.name]![String(v)]?.toFixed(3) ?? '–').join(' | ')} |`);
    md.push('');
  }
}
for (const s of unavailable)
  md.push(`\`winnow score\` takes no \`${s.flag}\` in this build: ${s.name} stayed at Winnow's default.`, '');

const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'score-eval.md'), md.join('\n'));
writeFileSync(
  join(resultsDir, 'score-eval.json'),
  JSON.stringify(
    {
      command,
      machine,
      encoder: encoderLine,
      wallSeconds,
      seeds: SEEDS,
      datasets,
      noiseRates,
      conditions: Object.fromEntries(datasets.map((d) => [d, conditionsOf(d)])),
      judgeTestAccuracy: JUDGE_TEST_ACCURACY,
      settings,
      unavailableSettings: unavailable,
      chosen,
      evidence,
      heldOut,
      atDefaults,
      perSeed: tasks.map((t) => ({
        dataset: t.dataset,
        condition: t.condition,
        wrong: t.truth.filter((x) => x.wrong).length,
        seed: t.seed,
        runs: Object.fromEntries(t.runs),
        scoreOutput: Object.fromEntries(t.scoreOutput),
      })),
    },
    null,
    1,
  ),
);
console.log(md.join('\n'));
if (args.keep) console.error(`kept ${WORK}`);
else rmSync(WORK, { recursive: true, force: true });
