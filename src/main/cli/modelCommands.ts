import type { Command } from 'commander';
import { join } from 'node:path';
import { EMBEDDED } from '../models/modelLoader.ts';
import { removeModel } from '../models/modelRegistry.ts';
import { createDemoProject } from '../pipeline/demo.ts';
import { embeddedModels, registeredModels, registerModel } from '../service/models.ts';
import { EXECUTION_PROVIDERS, PROVIDER_VARIABLE, processProvider } from '../models/providers.ts';
import { randomNoiseSeed } from '../pipeline/generate.ts';
import { generateWith } from '../service/generating.ts';
import { promptSuggestionsFor } from '../service/prompts.ts';
import { addPromptTemplates, findClass } from '../store/classes.ts';
import { WinnowError } from '../errors.ts';
import { isProject } from '../store/project.ts';
import { projectStatus } from '../service/winnowService.ts';
import { setCurrentProject, winnowHome } from '../workspace.ts';
import { describeProvider, EXIT, formatSummary } from './output.ts';
import { progressBar } from './progress.ts';
import { number, QUEUE_OPTION, queueUrl } from './parse.ts';
import { queueReporter } from './queueReport.ts';
import type { WithProject } from './withProject.ts';

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
    .option(
      '--batch <b>',
      "images per batch (default: the generator's, 64 embedded, 1 Stable Diffusion)",
      number('int', 1),
    )
    .option('--model <name>', `a registered Stable Diffusion model (winnow models), or ${EMBEDDED}`, EMBEDDED)
    .option('--queue <url>', QUEUE_OPTION, queueUrl)
    .action(
      async (
        options: {
          class: string;
          count: number;
          guidance?: number;
          steps?: number;
          seed?: number;
          epsilon: number;
          batch?: number;
          model: string;
          queue?: string;
        },
        command: Command,
      ) =>
        withProject(command, 'write', async (project) => {
          const bar = progressBar('generating');
          // Chosen here when not given, so that a stopped command can say how to finish it.
          const seed = options.seed ?? randomNoiseSeed();
          const controller = new AbortController();
          const cancel = () => controller.abort();
          process.once('SIGINT', cancel);
          process.once('SIGTERM', cancel);
          try {
            const result = await generateWith(
              project,
              options.model,
              {
                className: options.class,
                count: options.count,
                epsilon: options.epsilon,
                ...(options.batch !== undefined ? { batchSize: options.batch } : {}),
                ...(options.guidance !== undefined ? { guidanceScale: options.guidance } : {}),
                ...(options.steps !== undefined ? { steps: options.steps } : {}),
                seed,
              },
              {
                signal: controller.signal,
                queueUrl: options.queue,
                onQueue: queueReporter((line) => console.error(line)),
                onProgress: (done, total) => bar.update(done, total),
                onLoaded: (generator) => {
                  console.error(`Generator ${describeProvider(generator)}`);
                  if (generator.note) console.error(`note: ${generator.note}`);
                },
              },
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
          } catch (error) {
            if (!controller.signal.aborted) throw error;
            bar.stop();
            console.error(
              `Stopped; the images made so far are kept. To make the rest, run the same command with --seed ${seed} (what is made already is not made again).`,
            );
            return EXIT.failed;
          } finally {
            bar.stop();
            process.off('SIGINT', cancel);
            process.off('SIGTERM', cancel);
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
      console.log(formatSummary(project.dir, projectStatus(project)));
      project.close();
      await setCurrentProject(dir);
      console.log(
        `\nCreated the demo project (now the current project). Next: winnow generate --class shirt --count 64`,
      );
    });

  program
    .command('prompts')
    .description(
      "suggest diversified prompts for a class (context and style templates on its disambiguated name, an optional OpenAI-compatible endpoint), ranked by CLIP against the class's meaning",
    )
    .requiredOption('--class <name>', 'the class')
    .option('--clip <name>', 'a registered CLIP model to rank the candidates')
    .option(
      '--endpoint <url>',
      "an OpenAI-compatible API, e.g. http://localhost:8000/v1 (key: $WINNOW_LLM_API_KEY, sent only to $WINNOW_LLM_ENDPOINT's origin)",
    )
    .option('--llm-model <name>', "the endpoint's model", 'default')
    .option('--count <n>', 'how many prompts to ask the endpoint for', number('int', 1), 8)
    .option('--add <k>', "add the top k suggestions to the class's prompt templates", number('int', 1))
    .action(
      async (
        options: { class: string; clip?: string; endpoint?: string; llmModel: string; count: number; add?: number },
        command: Command,
      ) =>
        withProject(command, 'write', async (project) => {
          const cls = findClass(project.db, options.class);
          if (!cls)
            throw new WinnowError(`There is no class "${options.class}".`, 'See the classes with winnow status.');
          const result = await promptSuggestionsFor(cls, {
            ...(options.clip === undefined ? {} : { clip: options.clip }),
            ...(options.endpoint === undefined ? {} : { endpoint: { url: options.endpoint, model: options.llmModel } }),
            count: options.count,
          });
          if (result.endpointError)
            console.error(`note: the endpoint was not used (${result.endpointError}); template prompts only.`);
          for (const s of result.suggestions)
            console.log(
              `${s.clipSimilarity === undefined ? '' : `${s.clipSimilarity.toFixed(3)}  `}${s.source.padEnd(8)}  ${s.prompt}`,
            );
          if (options.add !== undefined) {
            const chosen = result.suggestions.slice(0, options.add).map((s) => s.template ?? s.prompt);
            // To the templates stored now: the class may have been edited while suggestions were made.
            const added = addPromptTemplates(project.db, cls.id, chosen);
            console.log(`Added ${added} prompts to ${cls.name}.`);
          }
          return EXIT.ok;
        }),
    );

  program
    .command('gpu')
    .description('which execution provider models run on and why, and what to install to get your GPU used')
    .action(async () => {
      const choice = await processProvider();
      console.log(`Models run on ${choice.provider}: ${choice.reason}.\n`);
      const width = Math.max(...choice.statuses.map((s) => s.provider.length));
      for (const s of choice.statuses) {
        console.log(`  ${s.provider.padEnd(width)}  ${s.available ? 'available  ' : 'unavailable'}  ${s.detail}`);
        if (!s.available && s.fix) console.log(`  ${' '.repeat(width)}  to use it: ${s.fix}`);
      }
      console.log(
        `\nForce one with ${PROVIDER_VARIABLE}=${EXECUTION_PROVIDERS.join('|')} (one that cannot start gives the CPU, with the reason).`,
      );
    });

  const models = program
    .command('models')
    .description('list the embedded and registered models, with kind, size and execution provider')
    .action(async () => {
      const embedded = await embeddedModels();
      const registered = await registeredModels();
      const where = `${registered.provider} (${registered.providerReason})`;
      const rows = [
        ['name', 'kind', 'precision', 'size', 'provider', 'id'],
        [EMBEDDED, 'embedded generator', 'fp32', '-', embedded.generator.provider, embedded.generator.id],
        [EMBEDDED, 'embedded encoder', 'fp32', '-', embedded.encoder.provider, embedded.encoder.id],
        ...registered.models.map((m) => [
          m.name,
          m.kind,
          m.precision,
          formatBytes(m.sizeBytes),
          registered.provider,
          m.id,
        ]),
      ];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows)
        console.log(
          r
            .map((cell, c) => cell.padEnd(widths[c]!))
            .join('  ')
            .trimEnd(),
        );
      console.log(`\nRegistered models run on ${where}; the embedded generator knows: ${embedded.classes.join(', ')}.`);
    });
  models
    .command('add')
    .description('register a Stable Diffusion or CLIP folder exported to ONNX (checked before it is added)')
    .argument('<folder>', 'the exported model folder')
    .option('--name <name>', "what to call it (default: the folder's name)")
    .action(async (folder: string, options: { name?: string }) => {
      const model = await registerModel(folder, options.name);
      console.log(
        `Added ${model.kind} model "${model.name}" (${model.precision}, ${formatBytes(model.sizeBytes)}) from ${model.path}.`,
      );
      console.log(
        model.kind === 'clip'
          ? `Use it with --encoder ${model.name} or --clip ${model.name}.`
          : `Use it with winnow generate --model ${model.name} or winnow run --generator ${model.name}.`,
      );
    });
  models
    .command('remove')
    .description('forget a registered model (its folder is left as it is)')
    .argument('<name>')
    .action(async (name: string) => {
      await removeModel(name);
      console.log(`Removed "${name}" from the registry; its folder was not touched.`);
    });
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
