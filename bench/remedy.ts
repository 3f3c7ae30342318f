// Which remedy for a confused class helps (issue #13, item 4)? On the demo project (Fashion-MNIST,
// embedded generator and backbone), per seed: a first batch of each measured class with no remedy,
// scored as `winnow score` does, tells the class its disagreements suggest most; then Winnow's own
// trial (pipeline/remedy.ts trialRemedies) makes, with the same seeds, a batch without a remedy and
// one with each remedy the embedded generator takes, scores the project and picks the remedy by the
// head's agreement. The judge (bench/judge.ts) labels every batch; a batch's judged pseudo-label
// accuracy is the share the judge puts in the class. Mean ± SE over seeds.
//
//   node bench/remedy.ts [--seeds 3] [--count 40] [--first 30] [--classes shirt,pullover,coat]
//
// Writes bench/results/remedy.md and .json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { RemedyKind, RemedyOutcome } from '../src/shared/api.ts';
import { EmbeddedEncoder } from '../src/main/models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../src/main/models/embeddedGenerator.ts';
import { embeddedModelDir } from '../src/main/models/embeddedModels.ts';
import { createDemoProject } from '../src/main/pipeline/demo.ts';
import { generateInstances } from '../src/main/pipeline/generate.ts';
import { proposeRemedy, trialRemedies } from '../src/main/pipeline/remedy.ts';
import { scoreProject } from '../src/main/pipeline/scoreSet.ts';
import { type ClassRow, listClasses } from '../src/main/store/classes.ts';
import { getInstance } from '../src/main/store/instances.ts';
import type { Project } from '../src/main/store/project.ts';
import { JUDGE_TEST_ACCURACY, judgeClasses } from './judge.ts';
import { formatMeanSe, formatSignedMeanSe, meanSe } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    count: { type: 'string', default: '40' },
    first: { type: 'string', default: '30' },
    classes: { type: 'string', default: 'shirt,pullover,coat' },
  },
});
const SEEDS = Number(args.seeds);
const COUNT = Number(args.count);
const FIRST = Number(args.first);
const CLASSES = args.classes.split(',');

const started = performance.now();
const generator = await EmbeddedGenerator.load(embeddedModelDir('fmnist-ddpm'));
const encoder = await EmbeddedEncoder.load(embeddedModelDir('fmnist-backbone'));
const prompting = EmbeddedGenerator.prompting;

/** One batch of a trial: the head's agreement and the judge's accuracy. */
interface Batch {
  readonly kind: RemedyKind | 'none';
  readonly change: string;
  readonly agreement: number;
  readonly accuracy: number;
}

interface ClassResult {
  readonly seed: number;
  readonly className: string;
  readonly confusedWith: string;
  readonly evidence: string;
  readonly batches: readonly Batch[];
  /** The remedy the trial chose by the head's agreement (null: none raised it). */
  readonly chosen: RemedyKind | null;
}

/** The share of these instances' images the judge puts in class `judgeIndex`. */
async function judged(project: Project, ids: readonly number[], judgeIndex: number): Promise<number> {
  const files = ids.map((id) => project.images.pathOf(getInstance(project.db, id)!.imageHash));
  const classes = await judgeClasses(files);
  return classes.filter((k) => k === judgeIndex).length / classes.length;
}

/** The class each one's disagreements suggest most in bench/results/negative-remedy*.md. */
const FALLBACK_CONFUSION: Readonly<Record<string, string>> = { shirt: 'coat', pullover: 'coat', coat: 'shirt' };

const firstSeed = (seed: number, classIndex: number) => seed * 1_000_000 + classIndex * 10_000;
const share = (a: { agreeing: number; suggested: number }) => (a.suggested === 0 ? 0 : a.agreeing / a.suggested);

async function runSeed(seed: number): Promise<ClassResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'winnow-remedy-'));
  const project = await createDemoProject(dir);
  try {
    // The demo adds the classes in Fashion-MNIST order, the judge's.
    const classes = listClasses(project.db).sort((a, b) => a.id - b.id);
    const measured = CLASSES.map((name) => {
      const k = classes.findIndex((c) => c.name === name);
      if (k < 0) throw new Error(`${name} is not a demo class`);
      return { cls: classes[k]!, k };
    });
    for (const { cls, k } of measured)
      await generateInstances(project, generator, { className: cls.name, count: FIRST, seed: firstSeed(seed, k) });
    await scoreProject(project, encoder);
    const results: ClassResult[] = [];
    for (const { cls, k } of measured) {
      results.push(await trialOf(project, cls, k, seed));
      console.error(`seed ${seed} ${cls.name}: ${JSON.stringify(results.at(-1))}`);
    }
    return results;
  } finally {
    project.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function trialOf(project: Project, cls: ClassRow, k: number, seed: number): Promise<ClassResult> {
  // Read after the earlier classes' trials re-scored the project; when the head now agrees with all
  // of the class's instances, the class it is confused with in the negative-remedy bench stands in.
  const proposal = proposeRemedy(project.db, cls.id);
  const confusedWith = proposal.confusedWith?.name ?? FALLBACK_CONFUSION[cls.name];
  if (confusedWith === undefined) throw new Error(`${cls.name}: the head agrees with every instance (seed ${seed})`);
  // Another seed range than the first batch's, so that the batch without a remedy is new.
  const outcome: RemedyOutcome = await trialRemedies(
    project,
    { generator, encoder },
    {
      classId: cls.id,
      count: COUNT,
      seed: firstSeed(seed, k) + 5_000,
      confusedWith,
      prompting,
    },
  );
  const batches: Batch[] = [
    {
      kind: 'none',
      change: 'none',
      agreement: share(outcome.baseline.agreement),
      accuracy: await judged(project, outcome.baseline.instanceIds, k),
    },
  ];
  for (const t of outcome.trials)
    batches.push({
      kind: t.kind,
      change: t.change,
      agreement: share(t.agreement),
      accuracy: await judged(project, t.instanceIds, k),
    });
  return { seed, className: cls.name, confusedWith, evidence: proposal.evidence, batches, chosen: outcome.chosen };
}

const fmt = (xs: readonly number[]) => (xs.length === 0 ? '–' : formatMeanSe(meanSe(xs)));
const signed = (xs: readonly number[]) => (xs.length === 0 ? '–' : formatSignedMeanSe(meanSe(xs)));

function report(seedsDone: number): void {
  const kinds = [...new Set(all.flatMap((r) => r.batches.map((b) => b.kind)))];
  const rows = CLASSES.flatMap((name) => {
    const of = all.filter((r) => r.className === name);
    return kinds.map((kind) => {
      const pairs = of.map((r) => ({ b: r.batches.find((b) => b.kind === kind)!, none: r.batches[0]! }));
      return {
        name,
        kind,
        changes: [...new Set(pairs.map((p) => p.b.change))].join(' / '),
        accuracy: fmt(pairs.map((p) => p.b.accuracy)),
        delta: kind === 'none' ? '' : signed(pairs.map((p) => p.b.accuracy - p.none.accuracy)),
        agreement: fmt(pairs.map((p) => p.b.agreement)),
        chosen:
          kind === 'none' ? of.filter((r) => r.chosen === null).length : of.filter((r) => r.chosen === kind).length,
      };
    });
  });
  const minutes = (performance.now() - started) / 60_000;
  const command = `node bench/remedy.ts --seeds ${SEEDS} --count ${COUNT} --first ${FIRST} --classes ${CLASSES.join(',')}`;
  const md = [
    "# Remedies for a confused class: the judge's accuracy and the head's agreement per remedy",
    '',
    `Command: \`${command}\`; ${minutes.toFixed(1)} min on ${cpus()[0]?.model.trim() ?? 'cpu'} × ${availableParallelism()}; ` +
      `generator ${generator.id}, encoder ${encoder.id}; ${seedsDone} seed(s) of ${SEEDS}, mean ± SE over seeds.`,
    '',
    `Per seed: the demo project, ${FIRST} images of each measured class, \`winnow score\` (defaults), and the class its ` +
      'disagreements suggest most (named whether or not they concentrate enough for a proposal). Then the remedy trial ' +
      `(\`winnow remedy <class> --apply --count ${COUNT}\`'s): a batch without a remedy and one per remedy the embedded ` +
      'generator takes, same seeds, scored; "chosen" counts the seeds where the trial picked that remedy by the head\'s ' +
      'agreement ("none" row: where it kept the class as it was). Judged accuracy = the share of a batch the judge ' +
      `(bench/models/judge.onnx, test accuracy ${(JUDGE_TEST_ACCURACY * 100).toFixed(1)}%) puts in the class. ` +
      'Disambiguation is not tried (the embedded generator reads only class words); fewer budget is not tried on a batch ' +
      '(it changes how many images a round makes, not what they look like).',
    '',
    "| class | remedy | setting | judged accuracy | change | head's agreement | chosen |",
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.kind} | ${r.changes} | ${r.accuracy} | ${r.delta} | ${r.agreement} | ${r.chosen}/${seedsDone} |`,
    ),
    '',
    "Evidence per seed (the label issues row read just before the class's trial; a class with none uses the confusion the negative-remedy bench found):",
    '',
    ...all.map((r) => `- seed ${r.seed}, ${r.className}: ${r.evidence}`),
    '',
  ].join('\n');
  writeFileSync(join(import.meta.dirname, 'results', 'remedy.md'), md);
  writeFileSync(
    join(import.meta.dirname, 'results', 'remedy.json'),
    JSON.stringify({ command, judgeTestAccuracy: JUDGE_TEST_ACCURACY, results: all }, null, 2),
  );
  console.log(md);
}

const all: ClassResult[] = [];
for (let s = 1; s <= SEEDS; s++) {
  all.push(...(await runSeed(s)));
  // Written after every seed, so that a run stopped early leaves the seeds it finished.
  report(s);
}
await generator.dispose();
await encoder.dispose();
