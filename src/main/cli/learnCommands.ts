import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ProgressEvent } from '../../shared/progress.ts';
import type { AcceptanceRule } from '../learn/acceptance.ts';
import {
  decidingKind,
  DEFAULT_FILTER,
  defaultRuleFor,
  RULE_DEFAULTS,
  ruleLabel,
  TEST_SPLIT_NOTE,
} from '../../shared/runSettings.ts';
import { SCORING_DEFAULTS, type ScoringSettings } from '../learn/learnDefaults.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import { defaultLoopParams, type LoopParams, loopParamsSchema, type LoopSettings } from '../pipeline/loop.ts';
import { runDetail } from '../pipeline/runReport.ts';
import { defaultScoreOptions, type ScoreResult } from '../pipeline/scoreSet.ts';
import { Jobs } from '../service/jobs.ts';
import { loadChosenModels, type ModelChoice } from '../service/modelChoice.ts';
import { scoreWith } from '../service/scoring.ts';
import { ACQUISITIONS, LOOP_FILTERS, SCORE_KINDS, type ScoreKindName } from '../../shared/scoreKinds.ts';
import type { Project } from '../store/project.ts';
import { metricsOf } from '../store/runs.ts';
import { describeProvider, EXIT } from './output.ts';
import { progressBar } from './progress.ts';
import { number, QUEUE_OPTION, queueUrl } from './parse.ts';
import { queueReporter } from './queueReport.ts';
import type { WithProject } from './withProject.ts';

/** `--rule`'s default as help says it, read from defaultRuleFor so it cannot drift from what runs. */
function defaultRuleHelp(command: 'run' | 'score', others: string): string {
  const { keep } = RULE_DEFAULTS['class-percentile'];
  return `(default: ${ruleLabel(defaultRuleFor(DEFAULT_FILTER, command))} for ${DEFAULT_FILTER}, class-percentile:${keep} for other ${others})`;
}

/**
 * `threshold:T` (BSGAL: -0.05), `percentile:0.7:2000` (keep the top 70% of the last 2,000 scores), `top-k:20`,
 * `class-percentile:0.7` (the top 70% of each class), `confident` (keep unless confident learning flags the label),
 * `validated` (of `confident` and the top 90/80/70/60% of each class, the first whose head is within one SE of the best on validation).
 */
export function parseRule(text: string): AcceptanceRule {
  const [kind, a, b] = text.split(':');
  const value = (s: string | undefined) => {
    const n = s === undefined || s.trim() === '' ? NaN : Number(s);
    if (!Number.isFinite(n)) throw new InvalidArgumentError('see --help for the rule forms.');
    return n;
  };
  const rule: AcceptanceRule | undefined =
    kind === 'threshold'
      ? { kind, threshold: value(a) }
      : kind === 'percentile'
        ? { kind, keep: value(a), window: b === undefined ? RULE_DEFAULTS.percentile.window : value(b) }
        : kind === 'top-k'
          ? { kind, k: value(a) }
          : kind === 'class-percentile'
            ? { kind, keep: value(a) }
            : (kind === 'confident' || kind === 'validated') && a === undefined
              ? { kind }
              : undefined;
  if (rule === undefined)
    throw new InvalidArgumentError(
      'use threshold:T, percentile:KEEP[:WINDOW], top-k:K, class-percentile:KEEP, confident or validated.',
    );
  // The loop's own schema holds the bounds; this only says them in the rule's terms.
  const checked = loopParamsSchema.shape.rule.safeParse(rule);
  if (!checked.success) {
    const field = String(checked.error.issues[0]?.path[0]);
    throw new InvalidArgumentError(RULE_FIELDS[field] ?? checked.error.issues[0]?.message ?? 'see --help.');
  }
  return rule;
}

const RULE_FIELDS: Record<string, string> = {
  keep: 'KEEP is the share of the scores to keep, more than 0 and at most 1: 0.7 keeps the top 70%.',
  window: 'WINDOW is how many recent scores the share is taken over: a whole number, at least 1.',
  k: 'K is how many of each class to keep: a whole number, at least 1.',
};

function describeEvent(e: ProgressEvent): string {
  return e.round === undefined ? e.stage : `round ${e.round + 1}/${e.rounds} ${e.stage}`;
}

export function addLearnCommands(program: Command, withProject: WithProject): void {
  const run = program
    .command('run')
    .description(
      'the generative active-learning loop: each round plans, searches, generates, embeds, scores, accepts, trains and evaluates',
    )
    .option('--rounds <r>', 'rounds', number('int', 1), defaultLoopParams.rounds)
    .option(
      '--per-round <n>',
      'images generated per round (split over classes, weakest first)',
      number('int', 1),
      defaultLoopParams.perRound,
    )
    .option(
      '--seed <k>',
      'seed of everything random in the run (default: the smallest seed no earlier run of the project used)',
      number('int', 0),
    )
    .addOption(
      new Option('--filter <f>', 'what decides acceptance').choices(LOOP_FILTERS).default(defaultLoopParams.filter),
    )
    .option(
      '--rule <rule>',
      `threshold:T | percentile:KEEP[:WINDOW] | top-k:K | class-percentile:KEEP | confident | validated (each round, of confident and class-percentile 0.9–0.6, the choice of the round before while its head is within one SE of the best on validation, else the first that is) ${defaultRuleHelp('run', 'filters')}`,
      parseRule,
    )
    .addOption(
      new Option('--scoring <mode>', 'online re-scores every round; offline scores once with the initial head')
        .choices(['online', 'offline'])
        .default(defaultLoopParams.scoring),
    )
    .addOption(
      new Option('--granularity <g>', 'decide per instance, or per batch as BSGAL does')
        .choices(['instance', 'batch'])
        .default(defaultLoopParams.granularity),
    )
    .addOption(
      new Option('--acquisition <a>', 'GALOT acquisition steering the conditioning search')
        .choices(ACQUISITIONS)
        .default(defaultLoopParams.acquisition),
    )
    .option('--epsilon <e>', 'radius of the conditioning search ball', number('float', 0), defaultLoopParams.epsilon)
    .option('--steps <s>', "sampler steps (default: the generator's)", number('int', 1))
    .option('--folds <k>', 'folds of the cross-fitted head', number('int', 2), defaultLoopParams.folds)
    .option('--guidance <g>', "classifier-free guidance scale (default: the generator's)", number('float', 0))
    .option('--generator <name>', `a registered Stable Diffusion model (winnow models), or ${EMBEDDED}`, EMBEDDED)
    .option('--encoder <name>', `the head's backbone: a registered CLIP model, or ${EMBEDDED}`, EMBEDDED)
    .option('--clip <name>', 'a registered CLIP model: adds the clip score (and --filter clip)')
    .option('--resume', 'go on with the latest unfinished run, with its own settings')
    .option('--queue <url>', QUEUE_OPTION, queueUrl)
    .action(async (options: RunOptions, command: Command) => {
      const params = options.resume ? resumeAlone(command) : checkedParams(options, command);
      const choice: ModelChoice = {
        generator: options.generator,
        encoder: options.encoder,
        ...(options.clip === undefined ? {} : { clip: options.clip }),
      };
      return withProject(command, 'write', (project) => runInForeground(project, params, choice, options.queue));
    });
  addScoringOptions(run);

  const score = program
    .command('score')
    .description(
      "score every synthetic instance (e.g. an imported set) by every score kind against the project's real data, with no generation",
    )
    .addOption(
      new Option('--by <kind>', 'the score that decides acceptance')
        .choices([...SCORE_KINDS])
        .default(defaultScoreOptions.by),
    )
    .option(
      '--rule <rule>',
      `threshold:T | percentile:KEEP[:WINDOW] | top-k:K | class-percentile:KEEP | confident | validated (of confident and class-percentile 0.9–0.6, the first whose head is within one SE of the best on validation) ${defaultRuleHelp('score', 'kinds')}`,
      parseRule,
    )
    .option('--encoder <name>', `the head's backbone: a registered CLIP model, or ${EMBEDDED}`, EMBEDDED)
    .option('--clip <name>', 'a registered CLIP model: adds the clip score')
    .option('--json', 'print the result as JSON (with the validated rule, every candidate and its validation accuracy)')
    .action(
      async (
        options: {
          by: ScoreKindName;
          rule?: AcceptanceRule;
          encoder: string;
          clip?: string;
          json?: boolean;
        } & ScoringSettings,
        command: Command,
      ) =>
        withProject(command, 'write', async (project) => {
          const bar = progressBar('embedding');
          const rule = options.rule ?? defaultRuleFor(options.by, 'score');
          try {
            const result = await scoreWith(
              project,
              { encoder: options.encoder, ...(options.clip === undefined ? {} : { clip: options.clip }) },
              { by: options.by, rule, settings: scoringSettings(options) },
              {
                onLoaded: (models) => models.forEach((m) => console.error(describeProvider(m))),
                onProgress: (d, t) => bar.update(d, t),
              },
            );
            bar.stop();
            const report = scoreReport(result, rule, options.by);
            if (options.json) {
              console.log(JSON.stringify(report, null, 2));
              return EXIT.ok;
            }
            console.log(
              `Cross-validated accuracy of the real-data head: ${(100 * report.cvAccuracy).toFixed(1)}% (λ = ${report.lambda}).`,
            );
            console.log(
              `Scored ${report.scored} instances (run ${report.runId}): ${report.accepted} accepted, ${report.rejected} rejected by ${report.decidedBy}${report.chosenRule ? ` (the validated rule chose ${report.chosenRule})` : ''}.`,
            );
            if (report.test)
              console.log(
                `Test split (${report.test.images} real images, held out from all of it): a head trained on the real training images and the accepted instances reaches ${(100 * report.test.withAccepted).toFixed(1)}%, on the real training images alone ${(100 * report.test.realOnly).toFixed(1)}%.`,
              );
            return EXIT.ok;
          } finally {
            bar.stop();
          }
        }),
    );
  addScoringOptions(score);
}

/** What `winnow score` reports, in words or as `--json`: rules by their labels (ruleLabel), as the run's metrics name them. */
function scoreReport(result: ScoreResult, rule: AcceptanceRule, by: ScoreKindName) {
  const { choice } = result;
  return {
    runId: result.runId,
    scored: result.scored,
    accepted: result.accepted,
    rejected: result.scored - result.accepted,
    rule: ruleLabel(rule),
    /** The score kind that decided: the rule's own for `confident`, else `--by`'s. */
    decidedBy: decidingKind(choice?.rule ?? rule, by),
    chosenRule: choice ? ruleLabel(choice.rule) : null,
    candidates: choice
      ? choice.trials.map((trial, k) => ({ rule: ruleLabel(trial), validationAccuracy: choice.accuracies[k]! }))
      : [],
    cvAccuracy: result.cvAccuracy,
    lambda: result.lambda,
    test: result.test ?? null,
  };
}

/** The scores' tunables (learnDefaults.ts), as flags of `score` and `run`. */
function addScoringOptions(command: Command): void {
  command
    .option(
      '--realism-weight <w>',
      "weight of realism in the default ranking's quality",
      number('float'),
      SCORING_DEFAULTS.realismWeight,
    )
    .option(
      '--vote-weight <w>',
      "weight of the log label vote in the default ranking's quality",
      number('float'),
      SCORING_DEFAULTS.voteWeight,
    )
    .option(
      '--neighbours <k>',
      'k nearest real images of realism and label vote',
      number('int', 1),
      SCORING_DEFAULTS.neighbours,
    )
    .option(
      '--damping <d>',
      'damping δ of the influence solve',
      number('float', 0, 'exclusive'),
      SCORING_DEFAULTS.damping,
    )
    .option(
      '--lookahead-step <eta>',
      'step size of the look-ahead score (contribution_lookahead)',
      number('float', 0, 'exclusive'),
      SCORING_DEFAULTS.lookaheadStep,
    );
}

function scoringSettings(options: ScoringSettings): ScoringSettings {
  return {
    realismWeight: options.realismWeight,
    voteWeight: options.voteWeight,
    neighbours: options.neighbours,
    damping: options.damping,
    lookaheadStep: options.lookaheadStep,
  };
}

interface RunOptions extends ScoringSettings {
  readonly rounds: number;
  readonly perRound: number;
  readonly seed?: number;
  readonly filter: LoopParams['filter'];
  readonly rule?: AcceptanceRule;
  readonly scoring: LoopParams['scoring'];
  readonly granularity: LoopParams['granularity'];
  readonly acquisition: LoopParams['acquisition'];
  readonly epsilon: number;
  readonly folds: number;
  readonly steps?: number;
  readonly guidance?: number;
  readonly generator: string;
  readonly encoder: string;
  readonly clip?: string;
  readonly resume?: boolean;
  readonly queue?: string;
}

/** The run's settings, checked against the loop's schema now: a bad one is bad usage (exit 2), named by its option. */
function checkedParams(options: RunOptions, command: Command): LoopSettings {
  const params: LoopSettings = {
    ...defaultLoopParams,
    rounds: options.rounds,
    perRound: options.perRound,
    seed: options.seed,
    filter: options.filter,
    rule: options.rule ?? defaultRuleFor(options.filter, 'run'),
    scoring: options.scoring,
    granularity: options.granularity,
    acquisition: options.acquisition,
    epsilon: options.epsilon,
    folds: options.folds,
    ...scoringSettings(options),
    ...(options.steps === undefined ? {} : { steps: options.steps }),
    ...(options.guidance === undefined ? {} : { guidanceScale: options.guidance }),
  };
  const checked = loopParamsSchema.safeParse({ ...params, seed: params.seed ?? 0 });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const key = String(issue?.path[0]);
    const flag = key === 'guidanceScale' ? 'guidance' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    command.error(`error: option '--${flag}': ${issue?.message ?? 'is invalid'}.`, { exitCode: EXIT.usage });
  }
  return params;
}

/**
 * `--resume` goes on with the run's own settings and models: any other run option given with it is
 * refused (but `--queue`, which says where images are made, not what they are).
 */
function resumeAlone(command: Command): 'resume' {
  const given = command.options
    .filter((o) => !['resume', 'queue'].includes(o.attributeName()))
    .filter((o) => command.getOptionValueSource(o.attributeName()) === 'cli')
    .map((o) => o.long);
  if (given.length > 0)
    command.error(
      `error: --resume goes on with the run's own settings and models; leave out ${given.join(', ')} (or start a new run without --resume).`,
      { exitCode: EXIT.usage },
    );
  return 'resume';
}

/**
 * Runs (or resumes) the loop through the same job the UI's Start and Resume use, drawing each
 * stage's progress; Ctrl-C pauses the run at its next step (resume it with `winnow run --resume`).
 */
async function runInForeground(
  project: Project,
  params: LoopSettings | 'resume',
  choice: ModelChoice,
  queueUrl: string | undefined,
): Promise<number> {
  const jobs = new Jobs(
    project,
    async (c) => {
      const models = await loadChosenModels(c);
      for (const m of new Set([models.generator, models.encoder, ...(models.clip ? [models.clip] : [])]))
        console.error(describeProvider(m));
      const note = (models.generator as { note?: string }).note;
      if (note) console.error(`note: ${note}`);
      return models;
    },
    { queueUrl: () => queueUrl },
  );
  const bar = progressBar('run');
  let label = '';
  jobs.events.on('progress', (e: ProgressEvent) => {
    if (describeEvent(e) !== label) {
      label = describeEvent(e);
      bar.stage(label);
    }
    bar.update(e.done, e.total);
  });
  jobs.events.on('warning', (message: string) => console.error(`warning: ${message}`));
  jobs.events.on(
    'queue',
    queueReporter((line) => console.error(line)),
  );
  // SIGTERM too: the run stops at its next step and releases its lease for the next worker.
  const pause = () => jobs.stop('paused');
  process.once('SIGINT', pause);
  process.once('SIGTERM', pause);
  try {
    const outcome = await jobs.start(params, choice);
    bar.stop();
    if (outcome.status === 'failed') throw outcome.error;
    if (outcome.status !== 'done' || outcome.runId === null) {
      console.error(`Run ${outcome.runId ?? ''} ${outcome.status}; go on with it with \`winnow run --resume\`.`);
      return EXIT.failed;
    }
    printRunTable(project, outcome.runId);
    if (outcome.warning !== undefined) console.log(`warning: ${outcome.warning}`);
    return EXIT.ok;
  } finally {
    bar.stop();
    process.off('SIGINT', pause);
    process.off('SIGTERM', pause);
  }
}

/**
 * Per round: what was made and accepted, the validation (and test) accuracy, the seconds of each stage, and (the
 * validated rule) the rule the round chose.
 */
function printRunTable(project: Project, runId: number): void {
  const stages = ['search', 'generate', 'embed', 'score', 'train', 'evaluate'];
  const rounds = runDetail(project.db, runId).rounds.filter((r) => r.valAccuracy !== null || r.generated !== null);
  const chose = rounds.some((r) => r.rule !== null);
  const tested = rounds.some((r) => r.testAccuracy !== null);
  const numbers = (tested ? 5 : 4) + stages.length;
  const pct = (x: number | null) => `${((x ?? 0) * 100).toFixed(1)}%`;
  console.log(`Run ${runId} done. Seconds per stage:`);
  const row = (cells: string[]) =>
    console.log(cells.map((c, i) => (i === 0 ? c.padEnd(6) : i < numbers ? c.padStart(9) : `  ${c}`)).join(''));
  row([
    'round',
    'generated',
    'accepted',
    'val acc',
    ...(tested ? ['test acc'] : []),
    ...stages,
    ...(chose ? ['rule chosen'] : []),
  ]);
  for (const r of rounds)
    row([
      r.round < 0 ? 'start' : String(r.round + 1),
      String(r.generated ?? '-'),
      String(r.acceptedNew ?? '-'),
      pct(r.valAccuracy),
      ...(tested ? [pct(r.testAccuracy)] : []),
      ...stages.map((s) => (r.seconds[s] === undefined ? '-' : r.seconds[s].toFixed(1))),
      ...(chose ? [r.rule ?? '-'] : []),
    ]);
  const cv = metricsOf(project.db, runId).find((m) => m.roundIndex === -1 && m.name === 'cv_accuracy');
  if (cv !== undefined) console.log(`Cross-validated accuracy of the real-data head: ${(100 * cv.value).toFixed(1)}%.`);
  if (tested) console.log(`test acc: ${TEST_SPLIT_NOTE}.`);
}
