import type { Command } from 'commander';
import { EmbeddedEncoder } from '../models/embeddedEncoder.ts';
import { EmbeddedGenerator } from '../models/embeddedGenerator.ts';
import { EMBEDDED_ENCODER, EMBEDDED_GENERATOR, embeddedModelDir } from '../models/embeddedModels.ts';
import { createDemoProject } from '../pipeline/demo.ts';
import { generateInstances } from '../pipeline/generate.ts';
import { isProject } from '../store/project.ts';
import { summarize } from '../store/summary.ts';
import { setCurrentProject, winnowHome } from '../workspace.ts';
import { describeProvider, EXIT, formatSummary } from './output.ts';
import { progressBar } from './progress.ts';
import { number } from './parse.ts';
import type { WithProject } from './withProject.ts';
import { join } from 'node:path';

export function addModelCommands(program: Command, withProject: WithProject): void {
  program
    .command('generate')
    .description("generate instances of a class with the embedded generator, from the class's prompt templates")
    .requiredOption('--class <name>', 'the class (its pseudo-label)')
    .requiredOption('--count <n>', 'how many images', number('int', 1))
    .option('--guidance <g>', 'classifier-free guidance scale (default: the model card’s)', number('float', 0))
    .option('--steps <s>', 'DDIM steps (default: the model card’s)', number('int', 1))
    .option('--seed <k>', 'noise seed of the first image; image i uses k+i (default: random)', number('int', 0))
    .option('--epsilon <e>', 'conditioning perturbation radius ε', number('float', 0), 0)
    .option('--batch <b>', 'images per batch', number('int', 1), 64)
    .action(
      async (
        options: {
          class: string;
          count: number;
          guidance?: number;
          steps?: number;
          seed?: number;
          epsilon: number;
          batch: number;
        },
        command: Command,
      ) =>
        withProject(command, async (project) => {
          const generator = await EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR));
          console.error(`Generator ${describeProvider(generator)}`);
          const bar = progressBar('generating');
          const controller = new AbortController();
          const cancel = () => controller.abort();
          process.once('SIGINT', cancel);
          try {
            const result = await generateInstances(
              project,
              generator,
              {
                className: options.class,
                count: options.count,
                epsilon: options.epsilon,
                batchSize: options.batch,
                ...(options.guidance !== undefined ? { guidanceScale: options.guidance } : {}),
                ...(options.steps !== undefined ? { steps: options.steps } : {}),
                ...(options.seed !== undefined ? { seed: options.seed } : {}),
              },
              { signal: controller.signal, onProgress: (done, total) => bar.update(done, total) },
            );
            bar.stop();
            for (const [prompt, words] of Object.entries(result.unknownWords)) {
              console.error(
                `note: the generator does not know the words ${words.map((w) => `"${w}"`).join(', ')} of "${prompt}"; they had no effect.`,
              );
            }
            console.log(`Generated ${result.instanceIds.length} instances of ${options.class} (run ${result.runId}).`);
            if (result.duplicates > 0)
              console.log(
                `${result.duplicates} were identical to existing instances (same seed and settings) and were not added again.`,
              );
            return EXIT.ok;
          } finally {
            bar.stop();
            process.off('SIGINT', cancel);
            await generator.dispose();
          }
        }),
    );

  program
    .command('demo')
    .description('create the Fashion-MNIST demo project from the embedded data and make it current')
    .argument('[dir]', 'where to create it', join(winnowHome(), 'demo'))
    .action(async (dir: string) => {
      if (isProject(dir)) {
        await setCurrentProject(dir);
        console.log(`The demo project already exists at ${dir}; it is now the current project.`);
        return;
      }
      const project = await createDemoProject(dir);
      console.log(formatSummary(project.dir, summarize(project.db)));
      project.close();
      await setCurrentProject(dir);
      console.log(
        `\nCreated the demo project (now the current project). Next: winnow generate --class shirt --count 64`,
      );
    });

  program
    .command('models')
    .description('list the embedded models and the execution provider each runs on')
    .action(async () => {
      const generator = await EmbeddedGenerator.load(embeddedModelDir(EMBEDDED_GENERATOR));
      const encoder = await EmbeddedEncoder.load(embeddedModelDir(EMBEDDED_ENCODER));
      console.log(`generator  ${describeProvider(generator)}  classes: ${generator.classes.join(', ')}`);
      console.log(`encoder    ${describeProvider(encoder)}  features: ${encoder.dim}`);
      await Promise.all([generator.dispose(), encoder.dispose()]);
    });
}
