// How each acceptance rule's decisions separate wrong labels on the labelled sets of
// bench/score-eval.ts (bench/labelled-sets.ts: Fashion-MNIST's test images, digits and letters,
// 20% or 40% of a 1,000-image pool given a wrong label). Nothing in Winnow was chosen on these
// decisions. Each set is built with a real test split (100 images per class; the digits 20, their
// validation split 30 instead of 50), which Winnow never fits, scores or chooses on. For each set
// the harness does what a user does, through Winnow's CLI in child processes: `winnow init`,
// `import real` (training, validation and test splits), `import synthetic`, then for each rule
// `winnow score --rule <rule> --json` (the default ranking, `quality`) and `export --status all
// --format jsonl`; it reads each instance's decision and compares it with the truth. Per rule, mean
// ± SE over seeds: the share accepted, wrong labels among the accepted, wrong labels rejected,
// right labels rejected, and the test accuracy of a head trained on the real training images and
// the accepted instances (`winnow score`'s test report; beside it the real images alone); for the
// validated rule, the candidate it chose on each set.
//
//   node bench/rule-eval.ts [--seeds 3] [--datasets fashion,digits,fonts] [--noise 0.2,0.4]
//                           [--rules confident,validated,...] [--from 1] [--out rule-eval]
//                           [--work <parent dir>] [--keep]
//
// Needs /usr/bin/python3 and the Debian packages listed in tools/datasets/README.md. Writes
// bench/results/<out>.md and .json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildSet, checkDatasets, exportManifest, projectWithReal, readTruth, winnowCli } from './labelled-sets.ts';
import { decisionShares, formatMeanSe, meanSe } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    /** The first seed: a later block of seeds is a fresh sample of sets. */
    from: { type: 'string', default: '1' },
    /** The results' file name in bench/results/ (.md and .json). */
    out: { type: 'string', default: 'rule-eval' },
    datasets: { type: 'string', default: 'fashion,digits,fonts' },
    noise: { type: 'string', default: '0.2,0.4' },
    /** `winnow score --rule` values: the confident rule (the loop's default), the validated rule (`winnow score`'s), and the candidates it chooses among. */
    rules: {
      type: 'string',
      default:
        'confident,validated,class-percentile:0.9,class-percentile:0.8,class-percentile:0.7,class-percentile:0.6',
    },
    work: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
  },
});

const SEEDS = Number(args.seeds);
const FIRST = Number(args.from);
const seedRange = `seeds ${FIRST}–${FIRST + SEEDS - 1}`;
const datasets = args.datasets.split(',');
const noiseRates = args.noise.split(',').map(Number);
const rules = args.rules.split(',');
checkDatasets(datasets);
mkdirSync(args.work, { recursive: true });
/** A fresh folder of this run's sets, projects and exports (removed at the end unless --keep). */
const WORK = mkdtempSync(join(resolve(args.work), 'winnow-rule-eval-'));
const winnow = winnowCli(WORK);

type Shares = ReturnType<typeof decisionShares>;
/** One set's figures: rule → its decisions' shares, and what the validated rule chose. */
interface SetResult {
  readonly dataset: string;
  readonly noise: number;
  readonly seed: number;
  readonly shares: Record<string, Shares>;
  /** rule → test accuracy of the head on real training images and that rule's accepted instances. */
  readonly testAccuracy: Record<string, number>;
  /** Test accuracy of the head on the real training images alone. */
  readonly realOnly: number;
  readonly chosen?: string;
}

const started = performance.now();
const results: SetResult[] = [];
for (const dataset of datasets)
  for (const noise of noiseRates)
    for (let seed = FIRST; seed < FIRST + SEEDS; seed++) {
      const t0 = performance.now();
      const name = `${dataset}-noise${noise}-seed${seed}`;
      const dir = join(WORK, 'data', name);
      buildSet(dataset, dir, seed, noise, true);
      const wrongOf = new Map(readTruth(dir).map((t) => [resolve(dir, t.file), t.wrong]));
      const project = projectWithReal(winnow, join(WORK, 'projects', name), dir);
      winnow(['import', 'synthetic', join(dir, 'synthetic')], project);
      const shares: Record<string, Shares> = {};
      const testAccuracy: Record<string, number> = {};
      let realOnly = NaN;
      let chosen: string | undefined;
      for (const rule of rules) {
        const report = JSON.parse(winnow(['score', '--rule', rule, '--json'], project).stdout) as {
          chosenRule: string | null;
          test: { realOnly: number; withAccepted: number } | null;
        };
        if (report.test === null) throw new Error(`${project} has no test split: \`winnow score\` reported none.`);
        testAccuracy[rule] = report.test.withAccepted;
        realOnly = report.test.realOnly;
        const out = join(WORK, 'exports', `${name}-${rule}`);
        const rows = exportManifest(winnow, project, out);
        rmSync(out, { recursive: true, force: true });
        shares[rule] = decisionShares(
          rows.map((r) => {
            const wrong = wrongOf.get(resolve(r.source_path ?? ''));
            if (wrong === undefined) throw new Error(`${r.source_path} of ${project} is not in the set's truth.jsonl.`);
            return { accepted: r.status === 'accepted', wrong };
          }),
        );
        if (report.chosenRule !== null) chosen = report.chosenRule;
      }
      results.push({ dataset, noise, seed, shares, testAccuracy, realOnly, ...(chosen !== undefined && { chosen }) });
      console.error(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
const minutes = (performance.now() - started) / 60_000;

const percent = (values: number[]) => formatMeanSe(meanSe(values), 1, 100);
const lines = [
  '# Acceptance rules on sets with known wrong labels',
  '',
  `\`node bench/rule-eval.ts --seeds ${SEEDS} --from ${FIRST} --out ${args.out} --datasets ${datasets.join(',')} --noise ${noiseRates.join(',')} --rules ${rules.join(',')}\`: ${minutes.toFixed(1)} min. Each set's pool (1,000 images, or the digits' fewer) scored by \`winnow score --rule <rule>\` (the default ranking, \`quality\`); % of the pool accepted, wrong labels among the accepted, % of the wrong labels rejected, % of the right labels rejected; test accuracy (%) of a head trained on the real training images and the accepted instances, on the set's real test split, and its difference from the ${rules[0]} rule's (points, paired by seed); mean ± SE over ${SEEDS} seeds (${seedRange}).`,
];
for (const dataset of datasets)
  for (const noise of noiseRates) {
    const sets = results.filter((r) => r.dataset === dataset && r.noise === noise);
    lines.push('', `## ${dataset}, ${Math.round(noise * 100)}% wrong labels`, '');
    lines.push(
      `| rule | accepted | wrong among accepted | wrong rejected | right rejected | test acc | Δ test vs ${rules[0]} |`,
      '| --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const rule of rules) {
      const of = (k: keyof Shares) => percent(sets.map((s) => s.shares[rule]![k]));
      const test = percent(sets.map((s) => s.testAccuracy[rule]!));
      const delta =
        rule === rules[0] ? '–' : percent(sets.map((s) => s.testAccuracy[rule]! - s.testAccuracy[rules[0]!]!));
      lines.push(
        `| ${rule} | ${of('accepted')} | ${of('wrongAmongAccepted')} | ${of('wrongRejected')} | ${of('rightRejected')} | ${test} | ${delta} |`,
      );
    }
    lines.push(
      `| real images alone | – | – | – | – | ${percent(sets.map((s) => s.realOnly))} | ${percent(sets.map((s) => s.realOnly - s.testAccuracy[rules[0]!]!))} |`,
    );
    const chosen = sets.flatMap((s) => s.chosen ?? []);
    if (chosen.length > 0) lines.push('', `The validated rule chose: ${chosen.join(', ')} (${seedRange}).`);
  }
const resultsDir = resolve(import.meta.dirname, 'results');
writeFileSync(join(resultsDir, `${args.out}.md`), `${lines.join('\n')}\n`);
writeFileSync(join(resultsDir, `${args.out}.json`), `${JSON.stringify({ minutes, results }, null, 2)}\n`);
console.log(lines.join('\n'));
if (args.keep) console.error(`kept ${WORK}`);
else rmSync(WORK, { recursive: true, force: true });
