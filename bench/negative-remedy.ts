// Does the proposed remedy for a confused class help (issue #13, deliverable 4)? On the demo project
// (Fashion-MNIST, embedded generator and backbone), per seed: generate N images of each class with
// no negative prompt, score the project as `winnow score` does (every instance gets its suggested
// label), read each class's remedy proposal (pipeline/remedy.ts), then generate N images of the
// class again with the same seeds and the negative prompt naming the class its disagreements
// suggest most. The judge (bench/judge.ts) labels both batches; a class's judged pseudo-label
// accuracy is the share of its images the judge puts in the class. Mean ± SE over seeds.
// Classes whose disagreements are not concentrated are measured too (with the negative naming their
// most suggested other class) and marked "not proposed".
//
//   node bench/negative-remedy.ts [--seeds 3] [--count 100] [--classes shirt,pullover] [--out negative-remedy]
//
// Writes bench/results/<out>.md and .json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { EmbeddedEncoder } from '../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir } from '../src/main/models/embeddedModels.ts';
import { createDemoProject } from '../src/main/pipeline/demo.ts';
import { generateInstances } from '../src/main/pipeline/generate.ts';
import { negativeNaming, proposeRemedy } from '../src/main/pipeline/remedy.ts';
import { scoreProject } from '../src/main/pipeline/scoreSet.ts';
import { type ClassRow, listClasses, updateClass } from '../src/main/store/classes.ts';
import { getInstance } from '../src/main/store/instances.ts';
import type { Project } from '../src/main/store/project.ts';
import { JUDGE_TEST_ACCURACY, judgeClasses } from './judge.ts';
import { formatMeanSe, formatSignedMeanSe, meanSe } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    count: { type: 'string', default: '100' },
    classes: { type: 'string' },
    /** The results' file name in bench/results (without .md/.json). */
    out: { type: 'string', default: 'negative-remedy' },
  },
});
const SEEDS = Number(args.seeds);
const COUNT = Number(args.count);

const started = performance.now();
const generator = await EmbeddedGenerator.load(embeddedModelDir('fmnist-ddpm'));
const encoder = await EmbeddedEncoder.load(embeddedModelDir('fmnist-backbone'));

interface ClassResult {
  readonly seed: number;
  readonly className: string;
  readonly proposed: boolean;
  readonly negativePrompt: string | null;
  readonly evidence: string;
  /** Judged pseudo-label accuracy of the batch without and with the negative (null: no confusion to name). */
  readonly without: number;
  readonly with: number | null;
  /** How many of each batch the judge put in each class (by name). */
  readonly judgedWithout: Readonly<Record<string, number>>;
  readonly judgedWith: Readonly<Record<string, number>> | null;
}

interface Judged {
  readonly accuracy: number;
  readonly counts: Readonly<Record<string, number>>;
}

/** The share of these instances' images the judge puts in class `judgeIndex`, and where it puts them all. */
async function judge(
  project: Project,
  classes: readonly ClassRow[],
  ids: readonly number[],
  judgeIndex: number,
): Promise<Judged> {
  const files = ids.map((id) => project.images.pathOf(getInstance(project.db, id)!.imageHash));
  const judged = await judgeClasses(files);
  const counts: Record<string, number> = {};
  for (const k of judged) counts[classes[k]!.name] = (counts[classes[k]!.name] ?? 0) + 1;
  return { accuracy: judged.filter((k) => k === judgeIndex).length / judged.length, counts };
}

const firstSeed = (seed: number, classIndex: number) => seed * 1_000_000 + classIndex * 10_000;

async function runSeed(seed: number): Promise<ClassResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-negative-remedy-'));
  const project = await createDemoProject(dir);
  try {
    // The demo adds the classes in Fashion-MNIST order, the judge's.
    const classes = listClasses(project.db).sort((a, b) => a.id - b.id);
    const chosen = args.classes ? new Set(args.classes.split(',')) : undefined;
    const measured = (cls: ClassRow) => chosen === undefined || chosen.has(cls.name);
    // The head is fitted on the real images only, so a class's suggestions need only its own batch.
    const baseline = new Map<number, readonly number[]>();
    for (const [k, cls] of classes.entries()) {
      if (!measured(cls)) continue;
      const made = await generateInstances(project, generator, {
        className: cls.name,
        count: COUNT,
        seed: firstSeed(seed, k),
      });
      baseline.set(cls.id, made.instanceIds);
    }
    await scoreProject(project, encoder);
    const results: ClassResult[] = [];
    for (const [k, cls] of classes.entries()) {
      if (!measured(cls)) continue;
      results.push(await remedyOf(project, classes, k, seed, baseline.get(cls.id)!));
      console.error(`seed ${seed} ${cls.name}: ${JSON.stringify(results.at(-1))}`);
    }
    return results;
  } finally {
    project.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function remedyOf(
  project: Project,
  classes: readonly ClassRow[],
  k: number,
  seed: number,
  baseline: readonly number[],
): Promise<ClassResult> {
  const cls = classes[k]!;
  const proposal = proposeRemedy(project.db, cls.id);
  const without = await judge(project, classes, baseline, k);
  const negativePrompt =
    proposal.negativePrompt ??
    (proposal.confusedWith ? negativeNaming(cls.negativePrompt, proposal.confusedWith.name) : null);
  let withNegative: Judged | null = null;
  if (negativePrompt !== null) {
    updateClass(project.db, cls.id, { negativePrompt });
    const made = await generateInstances(project, generator, {
      className: cls.name,
      count: COUNT,
      seed: firstSeed(seed, k),
    });
    withNegative = await judge(project, classes, made.instanceIds, k);
    updateClass(project.db, cls.id, { negativePrompt: cls.negativePrompt });
  }
  return {
    seed,
    className: cls.name,
    proposed: proposal.concentrated,
    negativePrompt,
    evidence: proposal.evidence,
    without: without.accuracy,
    with: withNegative?.accuracy ?? null,
    judgedWithout: without.counts,
    judgedWith: withNegative?.counts ?? null,
  };
}

const all: ClassResult[] = [];
for (let s = 1; s <= SEEDS; s++) all.push(...(await runSeed(s)));
await generator.dispose();
await encoder.dispose();

const fmt = (xs: readonly number[]) => (xs.length === 0 ? '–' : formatMeanSe(meanSe(xs)));

const names = [...new Set(all.map((r) => r.className))];
const rows = names.map((name) => {
  const of = all.filter((r) => r.className === name);
  const paired = of.filter((r) => r.with !== null);
  const deltas = paired.map((r) => r.with! - r.without);
  return {
    name,
    proposedIn: of.filter((r) => r.proposed).length,
    negatives: [...new Set(paired.map((r) => r.negativePrompt))].join(' / ') || '–',
    without: fmt(of.map((r) => r.without)),
    with: fmt(paired.map((r) => r.with!)),
    delta: deltas.length === 0 ? '–' : formatSignedMeanSe(meanSe(deltas)),
  };
});
/** Judged classes summed over seeds, the most frequent first: "shirt 216, t-shirt 40, …". */
const where = (counts: readonly (Readonly<Record<string, number>> | null)[]) => {
  const sum = new Map<string, number>();
  for (const c of counts) for (const [name, n] of Object.entries(c ?? {})) sum.set(name, (sum.get(name) ?? 0) + n);
  return [...sum]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
};
const minutes = (performance.now() - started) / 60_000;
const md = [
  '# Negative-prompt remedy: judged pseudo-label accuracy with and without the proposed negative',
  '',
  `Command: \`node bench/negative-remedy.ts --seeds ${SEEDS} --count ${COUNT}${args.classes ? ` --classes ${args.classes}` : ''}${args.out === 'negative-remedy' ? '' : ` --out ${args.out}`}\`; ` +
    `${minutes.toFixed(1)} min on ${cpus()[0]?.model.trim() ?? 'cpu'} × ${availableParallelism()}; ` +
    `generator ${generator.id}, encoder ${encoder.id}; ${SEEDS} seed(s), mean ± SE over seeds.`,
  '',
  `Per seed: the demo project, ${COUNT} images of each measured class with no negative prompt, \`winnow score\` (defaults) for ` +
    "suggested labels, then each class's remedy proposal. The same seeds are generated again with the negative prompt " +
    "naming the class the class's disagreements suggest most. Accuracy = the share of a batch the judge " +
    `(bench/models/judge.onnx, test accuracy ${(JUDGE_TEST_ACCURACY * 100).toFixed(1)}%) puts in the class; the judge's own errors cap it. ` +
    '"proposed in": the seeds where the disagreements concentrated enough for Winnow to propose the negative ' +
    '(otherwise the negative naming the most suggested other class is measured all the same).',
  '',
  '| class | proposed in | negative | accuracy without | accuracy with | with − without |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) => `| ${r.name} | ${r.proposedIn}/${SEEDS} | ${r.negatives} | ${r.without} | ${r.with} | ${r.delta} |`,
  ),
  '',
  'Where the judge put the batches (summed over seeds):',
  '',
  '| class | without the negative | with the negative |',
  '| --- | --- | --- |',
  ...names.map((name) => {
    const of = all.filter((r) => r.className === name);
    return `| ${name} | ${where(of.map((r) => r.judgedWithout))} | ${where(of.map((r) => r.judgedWith)) || '–'} |`;
  }),
  '',
  'Evidence per seed (what the proposal read from the label issues matrix):',
  '',
  ...all.map((r) => `- seed ${r.seed}, ${r.className}: ${r.evidence}`),
  '',
].join('\n');
writeFileSync(join(import.meta.dirname, 'results', `${args.out}.md`), md);
writeFileSync(
  join(import.meta.dirname, 'results', `${args.out}.json`),
  JSON.stringify({ seeds: SEEDS, count: COUNT, judgeTestAccuracy: JUDGE_TEST_ACCURACY, results: all }, null, 2),
);
console.log(md);
