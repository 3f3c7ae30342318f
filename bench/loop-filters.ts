// The loop as shipped, on the demo project, under several acceptance filters: test accuracy (the
// 10,000 Fashion-MNIST test images, which the loop never sees) of the head after each round, its
// accuracy on the loop's own validation split, and the share of each round's images accepted. Mean ±
// standard error over seeds.
//
// The default ranking's rule is chosen here without looking at the test images: of the `quality`
// filters (class-percentile 0.6–0.9, and confident learning's rule), the one with the best
// validation accuracy (mean over rounds and seeds); the goal's checks are read for it. Real-only is the head every run
// starts from (its round −1 checkpoint): accepting nothing leaves it as it is.
//
//   node bench/loop-filters.ts [--seeds 3] [--from 1] [--jobs 3] [--rounds 5] [--per-round 200] [--wrong <share>]
//                              [--only <part of a filter's name>[|<another>…]]
//
// --jobs runs that many seeds at once, each in its own process (the loop is mostly single-threaded).
// --wrong makes the generator often wrong: that share of its images drawn as the class's look-alike
// (bench/lookAlikeGenerator.ts); the table then also says how many of the accepted images were.
// --from runs and summarises seeds from..seeds only: held-out seeds for a check of a change chosen
// after seeing the first ones.
// Writes bench/results/loop-filters.md and .json (loop-filters-wrong<percent>.md and .json with --wrong,
// -seeds<from>-<seeds> added with --from).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AcceptanceRule } from '../src/main/learn/acceptance.ts';
import { accuracy } from '../src/main/learn/softmaxHead.ts';
import { loadEmbeddedModels } from '../src/main/models/embeddedModels.ts';
import { createDemoProject } from '../src/main/pipeline/demo.ts';
import { defaultLoopParams, type LoopParams, startLoop } from '../src/main/pipeline/loop.ts';
import { loadCheckpoint } from '../src/main/store/features.ts';
import { effectiveStatus, type Instance, instancesOfRun } from '../src/main/store/instances.ts';
import { metricsOf } from '../src/main/store/runs.ts';
import { runDetail } from '../src/main/pipeline/runReport.ts';
import { fashionTestSet } from './fashionTestSet.ts';
import { isSwapped, lookAlikeGenerator } from './lookAlikeGenerator.ts';
import { aboveAtEveryRound, bestOnValidation, meanOverRounds, roundsBelowPrevious } from './loop-filters-lib.ts';
import { decisionShares, formatMeanSe, mean, meanSe } from './stats.ts';
import { DEFAULT_FILTER, DEFAULT_RULE, RULE_DEFAULTS, RUN_DEFAULTS } from '../src/shared/runSettings.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    /** The first seed: seeds from..seeds run. */
    from: { type: 'string', default: '1' },
    rounds: { type: 'string', default: String(RUN_DEFAULTS.rounds) },
    'per-round': { type: 'string', default: String(RUN_DEFAULTS.perRound) },
    /** Only the filters whose name contains this text (or one of several, separated by |). */
    only: { type: 'string', default: '' },
    /** Seeds run at once, each in a child process. */
    jobs: { type: 'string', default: '1' },
    /** (A child's option) run this one seed. */
    seed: { type: 'string' },
    /** The share of images the generator draws as the class's look-alike (0: the generator as it is). */
    wrong: { type: 'string', default: '0' },
    /** Forget the finished runs kept in bench/results/loop-filters-runs/ and start over. */
    fresh: { type: 'boolean', default: false },
    /** Only summarise the finished runs. */
    'summary-only': { type: 'boolean', default: false },
  },
});
const SEEDS = Number(args.seeds);
const ROUNDS = Number(args.rounds);
const PER_ROUND = Number(args['per-round']);
const WRONG = Number(args.wrong);
if (!(WRONG >= 0 && WRONG < 1)) throw new Error(`--wrong must be a share in [0, 1) (got ${args.wrong}).`);
const FROM = Number(args.from);
const RESULTS_NAME = `loop-filters${WRONG > 0 ? `-wrong${Math.round(WRONG * 100)}` : ''}${FROM > 1 ? `-seeds${FROM}-${SEEDS}` : ''}`;

const share = (keep: number): AcceptanceRule => ({ kind: 'class-percentile', keep });
/** The default ranking's candidate shares of each class kept, in the order they run. */
const QUALITY_SHARES = [0.7, 0.9, 0.8, 0.6];
const qualityName = (keep: number) => `${DEFAULT_FILTER}, class-percentile ${keep}`;
interface Filter {
  readonly name: string;
  readonly filter: LoopParams['filter'];
  readonly rule: AcceptanceRule;
}
// In the order they run: the comparisons the default is chosen and checked by first.
const FILTERS: Filter[] = [
  { name: 'all', filter: 'all', rule: DEFAULT_RULE },
  ...QUALITY_SHARES.map((keep): Filter => ({
    name: qualityName(keep),
    filter: DEFAULT_FILTER,
    rule: share(keep),
  })),
  { name: `${DEFAULT_FILTER}, confident`, filter: DEFAULT_FILTER, rule: RULE_DEFAULTS.confident },
  { name: 'contribution, threshold −0.05 (BSGAL)', filter: 'contribution', rule: RULE_DEFAULTS.threshold },
  { name: 'contribution_lookahead, class-percentile 0.7', filter: 'contribution_lookahead', rule: share(0.7) },
  // Chooses among the rows above of the default ranking each round, on the same validation split
  // the table's validation column reads: its column is of heads chosen on it, so it is left out of
  // the choice below, and test is the comparison that counts for it.
  { name: `${DEFAULT_FILTER}, validated`, filter: DEFAULT_FILTER, rule: RULE_DEFAULTS.validated },
];
const REAL_ONLY = 'none (real only)';

const chosen = FILTERS.filter((f) => args.only.split('|').some((part) => f.name.includes(part)));
/** One run's test and validation accuracy and accepted share, per round. */
interface RunRecord {
  accuracy: number[];
  validation: number[];
  accepted: number[];
  /** With --wrong, over every image the run made, by its final decision: of those accepted, the share
   * drawn as a look-alike; of the look-alikes, the share rejected. */
  lookAlikes?: { amongAccepted: number; rejected: number };
  /** Wall-clock seconds of the loop (absent in runs recorded before it was kept). */
  seconds?: number;
  /** Under the validated rule, the rule each round chose (ruleLabel's words). */
  chosen?: string[];
}
/**
 * Each finished run is kept as a file (per rounds × images, seed and filter), so a stopped bench goes
 * on where it stopped and seeds can run in separate processes; `--fresh` starts over.
 */
const RUNS_DIR = resolve(
  import.meta.dirname,
  'results',
  'loop-filters-runs',
  `r${ROUNDS}-n${PER_ROUND}${WRONG > 0 ? `-wrong${WRONG}` : ''}`,
);
const runFile = (seed: number, name: string) =>
  join(RUNS_DIR, `seed${seed}`, `${name.replace(/[^a-z0-9.]+/gi, '-').replace(/^-|-$/g, '')}.json`);
const readRun = (seed: number, name: string): RunRecord | undefined =>
  existsSync(runFile(seed, name)) ? (JSON.parse(readFileSync(runFile(seed, name), 'utf8')) as RunRecord) : undefined;
function writeRun(seed: number, name: string, record: RunRecord): void {
  mkdirSync(join(RUNS_DIR, `seed${seed}`), { recursive: true });
  writeFileSync(`${runFile(seed, name)}.tmp`, `${JSON.stringify(record)}\n`);
  renameSync(`${runFile(seed, name)}.tmp`, runFile(seed, name));
}
if (args.fresh) rmSync(RUNS_DIR, { recursive: true, force: true });

async function runSeed(seed: number): Promise<void> {
  const todo = chosen.filter((f) => readRun(seed, f.name) === undefined);
  if (todo.length === 0) return;
  const embedded = await loadEmbeddedModels();
  const models = {
    encoder: embedded.encoder,
    generator: WRONG > 0 ? await lookAlikeGenerator(embedded.generator, WRONG) : embedded.generator,
  };
  const testSet = await fashionTestSet(models.encoder);
  const C = embedded.generator.classes.length;
  const testAccuracy = (weights: Float32Array) => accuracy({ classes: C, dim: models.encoder.dim, weights }, testSet);
  for (const f of todo) {
    const dir = join(tmpdir(), `winnow-loop-bench-${process.pid}-${seed}`);
    rmSync(dir, { recursive: true, force: true });
    const project = await createDemoProject(dir);
    const loopStarted = performance.now();
    const runId = await startLoop(project, models, {
      ...defaultLoopParams,
      rounds: ROUNDS,
      perRound: PER_ROUND,
      seed,
      filter: f.filter,
      rule: f.rule,
    });
    const seconds = (performance.now() - loopStarted) / 1000;
    const metrics = metricsOf(project.db, runId);
    const metric = (round: number, name: string) =>
      metrics.find((m) => m.roundIndex === round && m.name === name)?.value ?? NaN;
    const rounds = Array.from({ length: ROUNDS }, (_, r) => r);
    if (readRun(seed, REAL_ONLY) === undefined) {
      const start = loadCheckpoint(project.db, runId, -1)!.head;
      writeRun(seed, REAL_ONLY, {
        accuracy: rounds.map(() => testAccuracy(start)),
        validation: rounds.map(() => metric(-1, 'val_accuracy')),
        accepted: rounds.map(() => 0),
      });
    }
    const record: RunRecord = {
      accuracy: rounds.map((r) => testAccuracy(loadCheckpoint(project.db, runId, r)!.head)),
      validation: rounds.map((r) => metric(r, 'val_accuracy')),
      accepted: rounds.map((r) => metric(r, 'accepted_new') / PER_ROUND),
      ...(WRONG > 0 && { lookAlikes: lookAlikeShares(instancesOfRun(project.db, runId)) }),
      seconds,
      ...(f.rule.kind === 'validated' && { chosen: runDetail(project.db, runId).rounds.flatMap((r) => r.rule ?? []) }),
    };
    writeRun(seed, f.name, record);
    project.close();
    rmSync(dir, { recursive: true, force: true });
    console.error(`seed ${seed}, ${f.name}: test ${record.accuracy.map((a) => (a * 100).toFixed(1)).join(' / ')}`);
  }
  await Promise.all([models.generator.dispose(), models.encoder.dispose()]);
}

/** Runs one seed in a child process (this script with --seed). */
function runSeedInChild(seed: number): Promise<void> {
  const argv = [process.argv[1]!, '--seed', String(seed), '--rounds', String(ROUNDS)];
  argv.push('--per-round', String(PER_ROUND), '--only', args.only, '--wrong', String(WRONG));
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`seed ${seed} exited with ${code}`))));
  });
}

if (args.seed !== undefined) {
  await runSeed(Number(args.seed));
  process.exit(0);
}

const seeds = Array.from({ length: SEEDS - FROM + 1 }, (_, k) => FROM + k);
const JOBS = Math.max(1, Number(args.jobs));
if (!args['summary-only'])
  for (let first = 0; first < seeds.length; first += JOBS)
    await Promise.all(
      seeds.slice(first, first + JOBS).map((seed) => (JOBS === 1 ? runSeed(seed) : runSeedInChild(seed))),
    );
/** Per filter, [seed][round], over the seeds whose run of it has finished. */
interface Result {
  accuracy: number[][];
  validation: number[][];
  accepted: number[][];
  lookAlikes: NonNullable<RunRecord['lookAlikes']>[];
  /** Per seed, the rule each round chose (the validated rule only). */
  chosen: string[][];
}
const results: Record<string, Result> = {};
const runMinutes: number[] = [];
for (const name of [REAL_ONLY, ...chosen.map((f) => f.name)]) {
  const runs = seeds.flatMap((seed) => readRun(seed, name) ?? []);
  runMinutes.push(...runs.flatMap((r) => (r.seconds === undefined ? [] : [r.seconds / 60])));
  if (runs.length > 0)
    results[name] = {
      accuracy: runs.map((r) => r.accuracy),
      validation: runs.map((r) => r.validation),
      accepted: runs.map((r) => r.accepted),
      lookAlikes: runs.flatMap((r) => r.lookAlikes ?? []),
      chosen: runs.flatMap((r) => (r.chosen ? [r.chosen] : [])),
    };
}

const cell = (runs: number[][], r: number) => {
  const xs = runs.map((run) => run[r]! * 100);
  return formatMeanSe(meanSe(xs), 1);
};
const names = Object.keys(results);
/** With --wrong, two more columns: how clean the accepted images were, and how many look-alikes were caught. */
/** Over every image a run made and its final decision: the look-alikes among those accepted, and those rejected. */
function lookAlikeShares(made: readonly Instance[]): NonNullable<RunRecord['lookAlikes']> {
  const shares = decisionShares(
    made.map((i) => ({
      accepted: effectiveStatus(i) === 'accepted',
      wrong: i.seed !== null && isSwapped(i.seed, WRONG),
    })),
  );
  return { amongAccepted: shares.wrongAmongAccepted, rejected: shares.wrongRejected };
}

const lookAlikeCells = (result: Result) =>
  WRONG === 0
    ? ''
    : result.lookAlikes.length === 0
      ? ' – | – |'
      : ` ${formatMeanSe(meanSe(result.lookAlikes.map((l) => l.amongAccepted)), 1, 100)} | ${formatMeanSe(meanSe(result.lookAlikes.map((l) => l.rejected)), 1, 100)} |`;
const meanOver = (runs: number[][]) => meanOverRounds(runs) * 100;
const lines = [
  `Seeds ${FROM}–${SEEDS} (the runs finished so far: see each row's seeds), ${ROUNDS} rounds × ${PER_ROUND} images, embedded models${WRONG > 0 ? `, the generator drawing ${Math.round(WRONG * 100)}% of its images as the class's look-alike (bench/lookAlikeGenerator.ts)` : ''}${runMinutes.length === 0 ? '' : `; a run took ${Math.min(...runMinutes).toFixed(0)}–${Math.max(...runMinutes).toFixed(0)} min (${runMinutes.length} runs that kept their time)`}. Test accuracy (%) after each round; validation accuracy (%, the loop's own split; mean over rounds); accepted (% of each round's images)${WRONG > 0 ? '; of every image the run made, by its final decision: look-alikes among those accepted (%), and look-alikes rejected (% of them)' : ''}:`,
  '',
  `| filter | seeds | ${Array.from({ length: ROUNDS }, (_, r) => `round ${r + 1}`).join(' | ')} | validation | accepted |${WRONG > 0 ? ' look-alikes among accepted | look-alikes rejected |' : ''}`,
  `| --- |${' --- |'.repeat(ROUNDS + 3 + (WRONG > 0 ? 2 : 0))}`,
  ...names.map(
    (name) =>
      `| ${name} | ${results[name]!.accuracy.length} | ${Array.from({ length: ROUNDS }, (_, r) => cell(results[name]!.accuracy, r)).join(' | ')} | ${meanOver(results[name]!.validation).toFixed(1)} | ${Array.from(
        { length: ROUNDS },
        (_, r) => mean(results[name]!.accepted.map((a) => a[r]! * 100)).toFixed(0),
      ).join(' / ')} |${lookAlikeCells(results[name]!)}`,
  ),
];
// The default ranking's rule, chosen on validation accuracy; then the goal's checks for it: above
// real-only and all-synthetic at every round, and no round below the one before by more than one SE.
const candidates = FILTERS.filter((f) => f.filter === DEFAULT_FILTER && f.rule.kind !== 'validated')
  .map((f) => f.name)
  .filter((name) => results[name]?.validation.length);
const shipped = FILTERS.find(
  (f) => f.filter === DEFAULT_FILTER && JSON.stringify(f.rule) === JSON.stringify(DEFAULT_RULE),
)?.name;
if (candidates.length > 0) {
  const best = bestOnValidation(candidates, (name) => results[name]!.validation);
  const beats = (other: string) =>
    results[other]?.accuracy.length
      ? aboveAtEveryRound(results[best]!.accuracy, results[other].accuracy, ROUNDS)
        ? 'yes'
        : 'no'
      : 'not run';
  const drops = roundsBelowPrevious(results[best]!.accuracy, ROUNDS);
  lines.push(
    '',
    `Chosen on validation accuracy: ${best} (the shipped default is ${shipped ?? 'not among them'}). On test: above real-only at every round: ${beats(REAL_ONLY)}; above all-synthetic at every round: ${beats('all')}; rounds more than one SE below the one before: ${drops.length === 0 ? 'none' : drops.map((r) => r + 1).join(', ')}.`,
  );
}
for (const [name, result] of Object.entries(results))
  if (result.chosen.length > 0)
    lines.push(
      '',
      `${name} chose, per round (seeds separated by ;): ${result.chosen.map((rounds) => rounds.join(' / ')).join('; ')}. Its validation column is of heads chosen on that split, so it is not compared on it.`,
    );
console.log(lines.join('\n'));
// A partial run (--only) is printed, not saved over the full results.
if (args.only === '') {
  mkdirSync(resolve(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(resolve(import.meta.dirname, `results/${RESULTS_NAME}.md`), `${lines.join('\n')}\n`);
  writeFileSync(resolve(import.meta.dirname, `results/${RESULTS_NAME}.json`), `${JSON.stringify(results, null, 2)}\n`);
}
