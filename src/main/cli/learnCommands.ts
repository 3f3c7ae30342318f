import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ProgressEvent } from '../../shared/progress.ts';
import type { AcceptanceRule } from '../learn/acceptance.ts';
import { EMBEDDED, loadClip, loadEncoder, loadGenerator } from '../models/modelLoader.ts';
import { defaultLoopParams, type LoopParams, type LoopSettings, resumeLoop, startLoop } from '../pipeline/loop.ts';
import { runDuplicatesWarning } from '../pipeline/duplicatesWarning.ts';
import { defaultScoreOptions, scoreProject } from '../pipeline/scoreSet.ts';
import { ACQUISITIONS, LOOP_FILTERS, SCORE_KINDS, type ScoreKindName } from '../../shared/scoreKinds.ts';
import { listRounds, metricsOf } from '../store/runs.ts';
import { describeProvider, EXIT } from './output.ts';
import { progressBar } from './progress.ts';
import { number } from './parse.ts';
import type { WithProject } from './withProject.ts';

/**
 * `threshold:-0.05`, `percentile:0.7:2000` (keep the top 70% of the last 2,000 scores), `top-k:20`,
 * `class-percentile:0.7` (the top 70% of each class).
 */
export function parseRule(text: string): AcceptanceRule {
  const [kind, a, b] = text.split(':');
  const value = (s: string | undefined) => {
    const n = Number(s);
    if (s === undefined || !Number.isFinite(n)) throw new InvalidArgumentError('see --help for the rule forms.');
    return n;
  };
  if (kind === 'threshold') return { kind, threshold: value(a) };
  if (kind === 'percentile') return { kind, keep: value(a), window: b === undefined ? 5000 : value(b) };
  if (kind === 'top-k') return { kind, k: value(a) };
  if (kind === 'class-percentile') return { kind, keep: value(a) };
  throw new InvalidArgumentError('use threshold:T, percentile:KEEP[:WINDOW], top-k:K or class-percentile:KEEP.');
}

function describeEvent(e: ProgressEvent): string {
  return e.round === undefined ? e.stage : `round ${e.round + 1}/${e.rounds} ${e.stage}`;
}

async function loadModels(options: { generator?: string; encoder?: string; clip?: string }) {
  const [generator, encoder, clip] = await Promise.all([
    loadGenerator(options.generator),
    loadEncoder(options.encoder),
    options.clip === undefined ? undefined : loadClip(options.clip),
  ]);
  for (const m of [generator, encoder, ...(clip ? [clip] : [])]) console.error(describeProvider(m));
  if (generator.note) console.error(`note: ${generator.note}`);
  return { generator, encoder, ...(clip ? { clip } : {}) };
}

export function addLearnCommands(program: Command, withProject: WithProject): void {
  program
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
      'seed of everything random in the run (default: one no earlier run of the project used)',
      number('int', 0),
    )
    .addOption(
      new Option('--filter <f>', 'what decides acceptance').choices(LOOP_FILTERS).default(defaultLoopParams.filter),
    )
    .option(
      '--rule <rule>',
      'threshold:T | percentile:KEEP[:WINDOW] | top-k:K | class-percentile:KEEP',
      parseRule,
      defaultLoopParams.rule,
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
    .option('--momentum <m>', 'gradient cache momentum', number('float', 0), defaultLoopParams.momentum)
    .option(
      '--lookahead-step <eta>',
      'step size of the loss-estimate score (contribution_lookahead)',
      number('float', 0),
      defaultLoopParams.lookaheadStep,
    )
    .option('--steps <s>', "sampler steps (default: the generator's)", number('int', 1))
    .option('--guidance <g>', "classifier-free guidance scale (default: the generator's)", number('float', 0))
    .option('--generator <name>', `a registered Stable Diffusion model (winnow models), or ${EMBEDDED}`, EMBEDDED)
    .option('--encoder <name>', `the head's backbone: a registered CLIP model, or ${EMBEDDED}`, EMBEDDED)
    .option('--clip <name>', 'a registered CLIP model: adds the clip score (and --filter clip)')
    .option('--resume', 'go on with the latest unfinished run, with its own settings')
    .action(async (options: Record<string, unknown> & { resume?: boolean }, command: Command) =>
      withProject(command, async (project) => {
        const models = await loadModels(options as { generator?: string; encoder?: string; clip?: string });
        const bar = progressBar('run');
        let label = '';
        const controller = new AbortController();
        const cancel = () => controller.abort();
        process.once('SIGINT', cancel);
        process.once('SIGTERM', cancel);
        const hooks = {
          signal: controller.signal,
          onWarning: (message: string) => console.error(`warning: ${message}`),
          onProgress: (e: ProgressEvent) => {
            if (describeEvent(e) !== label) {
              bar.stop();
              label = describeEvent(e);
              if (!process.stderr.isTTY) console.error(label);
            }
            bar.update(e.done, e.total);
          },
        };
        try {
          const params: LoopSettings = {
            ...defaultLoopParams,
            rounds: options.rounds as number,
            perRound: options.perRound as number,
            seed: options.seed as number | undefined,
            filter: options.filter as LoopParams['filter'],
            rule: options.rule as AcceptanceRule,
            scoring: options.scoring as LoopParams['scoring'],
            granularity: options.granularity as LoopParams['granularity'],
            acquisition: options.acquisition as LoopParams['acquisition'],
            epsilon: options.epsilon as number,
            momentum: options.momentum as number,
            lookaheadStep: options.lookaheadStep as number,
            ...(options.steps === undefined ? {} : { steps: options.steps as number }),
            ...(options.guidance === undefined ? {} : { guidanceScale: options.guidance as number }),
          };
          const runId = options.resume
            ? await resumeLoop(project, models, hooks)
            : await startLoop(project, models, params, hooks);
          bar.stop();
          const rows = metricsOf(project.db, runId).filter((m) =>
            ['val_accuracy', 'accepted_new', 'generated'].includes(m.name),
          );
          const rounds = [...new Set(rows.map((r) => r.roundIndex))];
          const stages = ['search', 'generate', 'embed', 'score', 'train', 'evaluate'];
          const timings = new Map(
            listRounds(project.db, runId).map((r) => [r.roundIndex, JSON.parse(r.timings) as Record<string, number>]),
          );
          console.log(`Run ${runId} done. Seconds per stage:`);
          console.log(
            ['round', 'generated', 'accepted', 'val acc', ...stages]
              .map((h, i) => (i === 0 ? h.padEnd(6) : h.padStart(9)))
              .join(''),
          );
          for (const r of rounds) {
            const get = (name: string) => rows.find((m) => m.roundIndex === r && m.name === name)?.value;
            const t = timings.get(r) ?? {};
            const cells = [
              r < 0 ? 'start' : String(r + 1),
              String(get('generated') ?? '-'),
              String(get('accepted_new') ?? '-'),
              `${((get('val_accuracy') ?? 0) * 100).toFixed(1)}%`,
              ...stages.map((s) => (t[s] === undefined ? '-' : t[s].toFixed(1))),
            ];
            console.log(cells.map((c, i) => (i === 0 ? c.padEnd(6) : c.padStart(9))).join(''));
          }
          const warning = runDuplicatesWarning(project.db, runId);
          if (warning !== undefined) console.log(`warning: ${warning}`);
          return EXIT.ok;
        } finally {
          bar.stop();
          process.off('SIGINT', cancel);
          process.off('SIGTERM', cancel);
          await Promise.all([models.generator.dispose(), models.encoder.dispose(), models.clip?.dispose()]);
        }
      }),
    );

  program
    .command('score')
    .description(
      "score every synthetic instance (e.g. an imported set) by contribution and the baselines against the project's real data, with no generation",
    )
    .addOption(
      new Option('--by <kind>', 'the score that decides acceptance')
        .choices([...SCORE_KINDS])
        .default(defaultScoreOptions.by),
    )
    .option(
      '--rule <rule>',
      'threshold:T | percentile:KEEP[:WINDOW] | top-k:K | class-percentile:KEEP',
      parseRule,
      defaultScoreOptions.rule,
    )
    .option('--seed <k>', 'seed of the head training', number('int', 0), 0)
    .option('--encoder <name>', `the head's backbone: a registered CLIP model, or ${EMBEDDED}`, EMBEDDED)
    .option('--clip <name>', 'a registered CLIP model: adds the clip score')
    .action(
      async (
        options: { by: ScoreKindName; rule: AcceptanceRule; seed: number; encoder: string; clip?: string },
        command: Command,
      ) =>
        withProject(command, async (project) => {
          const encoder = await loadEncoder(options.encoder);
          const clip = options.clip === undefined ? undefined : await loadClip(options.clip);
          for (const m of [encoder, ...(clip ? [clip] : [])]) console.error(describeProvider(m));
          const bar = progressBar('embedding');
          try {
            const result = await scoreProject(
              project,
              encoder,
              {
                ...defaultScoreOptions,
                by: options.by,
                rule: options.rule,
                seed: options.seed,
                ...(clip ? { clip } : {}),
              },
              (d, t) => bar.update(d, t),
            );
            bar.stop();
            console.log(
              `Scored ${result.scored} instances (run ${result.runId}): ${result.accepted} accepted, ${result.scored - result.accepted} rejected by ${options.by}.`,
            );
            return EXIT.ok;
          } finally {
            bar.stop();
            await Promise.all([encoder.dispose(), clip?.dispose()]);
          }
        }),
    );
}
