import type { Command } from 'commander';
import type { HeadAgreement, RemedyOutcome } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { EMBEDDED } from '../models/modelLoader.ts';
import { applyRemedy, proposeRemedy, type RemedyRequest } from '../pipeline/remedy.ts';
import { findClass, listClasses } from '../store/classes.ts';
import type { Project } from '../store/project.ts';
import { checkModelChoice, disposeAll, loadChosenModels, type ModelChoice } from '../service/modelChoice.ts';
import { EXIT } from './output.ts';
import { number } from './parse.ts';
import { progressBar } from './progress.ts';
import type { WithProject } from './withProject.ts';

/**
 * `winnow remedy <class>`: whether the class's disagreements with the scoring head gather in one other
 * class, and the negative prompt naming it; `--apply` sets it, generates a batch (the embedded
 * generator unless --model names another), scores the project and prints the head's agreement before and after.
 */
export function addRemedyCommand(program: Command, withProject: WithProject): void {
  program
    .command('remedy')
    .description(
      "propose a negative prompt for a class whose disagreements with the scoring head gather in one other class; --apply sets it, generates a batch and measures the head's agreement before and after",
    )
    .argument('<class>', 'the class (its pseudo-label)')
    .option('--apply', 'set the proposed negative prompt, generate --count instances and score the project')
    .option('--count <n>', 'how many instances the batch makes', number('int', 1), 50)
    .option('--seed <k>', 'noise seed of the first image of the batch (default: random)', number('int', 0))
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
          if (!options.apply) {
            console.log(
              options.json
                ? JSON.stringify(proposal, null, 2)
                : [
                    proposal.evidence,
                    proposal.negativePrompt === null
                      ? 'No remedy to propose.'
                      : `Proposed negative prompt: "${proposal.negativePrompt}" (now: "${proposal.currentNegativePrompt}"). Apply it: winnow remedy ${cls.name} --apply`,
                  ].join('\n'),
            );
            return EXIT.ok;
          }
          if (proposal.negativePrompt === null) {
            console.error(`${proposal.evidence}\nNo remedy to apply.`);
            return EXIT.failed;
          }
          const choice = { generator: options.model, encoder: options.encoder };
          checkModelChoice(choice);
          const outcome = await applyWithModels(project, choice, {
            classId: cls.id,
            negativePrompt: proposal.negativePrompt,
            count: options.count,
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
    return await applyRemedy(project, models, request, {
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
  return [
    `Set the negative prompt of ${name} to "${o.negativePrompt}"; generated ${o.instanceIds.length} instances (run ${o.generateRunId}) and scored the project (run ${o.scoreRunId}).`,
    "The head's suggested label agrees with the pseudo-label for:",
    `  before: ${share(o.before)} of the class's instances`,
    `  after:  ${share(o.after)} of the new batch`,
    'This is agreement with the head, not accuracy: audit the class on the Audit screen to measure that.',
  ].join('\n');
}
