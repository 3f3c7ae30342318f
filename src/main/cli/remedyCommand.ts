import type { Command } from 'commander';
import type { HeadAgreement, RemedyOutcome } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import { proposeRemedy, type RemedyRequest, trialRemedies, triedKinds } from '../pipeline/remedy.ts';
import { findClass, listClasses } from '../store/classes.ts';
import type { Project } from '../store/project.ts';
import { generatorPrompting } from '../service/generatorPrompting.ts';
import { checkModelChoice, disposeAll, loadChosenModels, type ModelChoice } from '../service/modelChoice.ts';
import { EXIT } from './output.ts';
import { number } from './parse.ts';
import { progressBar } from './progress.ts';
import type { WithProject } from './withProject.ts';

/**
 * `winnow remedy <class>`: whether the class's disagreements with the scoring head gather in one other
 * class, and the remedies to try; `--apply` tries each the generator can take on a batch (the
 * embedded generator unless --model names another) beside a batch without any, scores the project,
 * applies the one that raised the head's agreement most (or none) and prints each batch's agreement.
 */
export function addRemedyCommand(program: Command, withProject: WithProject): void {
  program
    .command('remedy')
    .description(
      "propose remedies for a class whose disagreements with the scoring head gather in one other class; --apply tries each on a batch, measures the head's agreement and applies the one that raised it most",
    )
    .argument('<class>', 'the class (its pseudo-label)')
    .option('--apply', 'generate --count instances without a remedy and with each, score the project, apply the best')
    .option('--count <n>', 'how many instances each batch makes', number('int', 1), 24)
    .option('--seed <k>', "noise seed of each batch's first image (default: random)", number('int', 0))
    .option('--model <name>', `the generator: a registered Stable Diffusion model, or ${EMBEDDED}`, EMBEDDED)
    .option('--encoder <name>', `the scoring backbone: a registered CLIP model, or ${EMBEDDED}`, EMBEDDED)
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: {
          apply?: boolean;
          count: number;
          seed?: number;
          model: string;
          encoder: string;
          json?: boolean;
        },
        command: Command,
      ) =>
        withProject(command, options.apply ? 'write' : 'read', async (project) => {
          const cls = findClass(project.db, name);
          if (cls === undefined)
            throw new WinnowError(
              `"${name}" is not a class of this project.`,
              `Use one of: ${listClasses(project.db)
                .map((c) => c.name)
                .join(', ')}.`,
            );
          const proposal = proposeRemedy(project.db, cls.id);
          const choice = { generator: options.model, encoder: options.encoder };
          checkModelChoice(choice);
          const prompting = generatorPrompting(options.model);
          if (!options.apply) {
            const kinds = triedKinds(prompting);
            console.log(
              options.json
                ? JSON.stringify(proposal, null, 2)
                : [
                    proposal.evidence,
                    proposal.concentrated
                      ? `Remedies to try away from ${proposal.confusedWith!.name}: ${kinds.map((k) => k.label.toLowerCase()).join('; ')}. Try them: winnow remedy ${cls.name} --apply`
                      : 'No remedy to propose.',
                  ].join('\n'),
            );
            return EXIT.ok;
          }
          if (!proposal.concentrated) {
            console.error(`${proposal.evidence}\nNo remedy to apply.`);
            return EXIT.failed;
          }
          const outcome = await applyWithModels(project, choice, {
            classId: cls.id,
            count: options.count,
            prompting,
            ...(options.seed === undefined ? {} : { seed: options.seed }),
          });
          console.log(options.json ? JSON.stringify(outcome, null, 2) : formatOutcome(cls.name, outcome));
          return EXIT.ok;
        }),
    );
}

async function applyWithModels(project: Project, choice: ModelChoice, request: RemedyRequest): Promise<RemedyOutcome> {
  const models = await loadChosenModels(choice);
  const bar = progressBar('generate');
  let stage = 'generate';
  try {
    return await trialRemedies(project, models, request, {
      onProgress: (s, done, total) => {
        if (s !== stage) bar.stage((stage = s));
        bar.update(done, total);
      },
    });
  } finally {
    bar.stop();
    await disposeAll([models.generator, models.encoder]);
  }
}

const share = (a: HeadAgreement) =>
  `${a.agreeing} of ${a.suggested}${a.suggested === 0 ? '' : ` (${((100 * a.agreeing) / a.suggested).toFixed(1)}%)`}`;

function formatOutcome(name: string, o: RemedyOutcome): string {
  const rows = [
    { what: 'no remedy', agreement: o.baseline.agreement },
    ...o.trials.map((t) => ({ what: t.change, agreement: t.agreement })),
  ];
  const width = Math.max(...rows.map((r) => r.what.length));
  return [
    `Tried remedies for ${name} (confused with ${o.confusedWith}) on ${o.baseline.instanceIds.length} instances each, seeds from ${o.seed}, and scored the project (run ${o.scoreRunId}).`,
    "The head's suggested label agrees with the pseudo-label for:",
    `  ${'before'.padEnd(width)}  ${share(o.before)} of the class's instances`,
    ...rows.map((r) => `  ${r.what.padEnd(width)}  ${share(r.agreement)}`),
    ...o.notTried.map((n) => `Not tried: ${n.label.toLowerCase()} (${n.why}).`),
    o.verdict,
    'This is agreement with the head, not accuracy: audit the class on the Audit screen to measure that.',
  ].join('\n');
}
