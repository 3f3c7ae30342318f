import { Command, CommanderError, Option } from 'commander';
import { WinnowError } from '../errors.ts';
import { EXPORT_FORMATS, type ExportFormat, exportDataset } from '../pipeline/exportDataset.ts';
import { findClass } from '../store/classes.ts';
import { importReal } from '../pipeline/importReal.ts';
import { importSynthetic } from '../pipeline/importSynthetic.ts';
import { initProject, openProject } from '../store/project.ts';
import { SPLITS, type Split } from '../store/realSamples.ts';
import { projectStatus } from '../service/winnowService.ts';
import { setCurrentProject } from '../workspace.ts';
import { addLearnCommands } from './learnCommands.ts';
import { addModelCommands } from './modelCommands.ts';
import { addServeCommand } from './serveCommand.ts';
import { addIssuesCommand } from './issuesCommand.ts';
import { addRemedyCommand } from './remedyCommand.ts';
import { addAuditCommand } from './auditCommand.ts';
import { stagedProgress } from './progress.ts';
import { DEFAULT_IMPORT_CHUNK } from '../pipeline/chunkedImport.ts';
import type { ImportProgress } from '../pipeline/report.ts';
import { addWorkerCommand } from './workerCommand.ts';
import { number } from './parse.ts';
import { type WithProject, withProjectFor } from './withProject.ts';
import { EXIT, formatSummary, printError, printSkipped } from './output.ts';

function buildProgram(withProject: WithProject): Command {
  const program = new Command('winnow')
    .description('Winnow: generate, score, curate and export synthetic training images.')
    .option(
      '-p, --project <dir>',
      'the project directory (default: $WINNOW_PROJECT, the working directory, or the current project)',
    )
    .showHelpAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `\nExit codes: ${EXIT.ok} done, ${EXIT.failed} failed (nothing changed), ${EXIT.usage} bad usage, ${EXIT.skipped} done but some files were skipped.`,
    );

  program
    .command('init')
    .description('create a project directory (winnow.db + images/) and make it the current project')
    .argument('<dir>', 'a new or empty directory')
    .option('--name <name>', 'a display name (default: the directory name)')
    .action(async (dir: string, options: { name?: string }) => {
      const project = initProject(dir, options.name);
      project.close();
      await setCurrentProject(project.dir);
      console.log(`Created project ${project.dir} (now the current project).`);
      console.log('Next: winnow import real <ImageFolder> --split train');
    });

  program
    .command('open')
    .description('make an existing project the current project')
    .argument('<dir>', 'the project directory')
    .action(async (dir: string) => {
      openProject(dir).close();
      await setCurrentProject(dir);
      console.log(`Current project: ${dir}`);
    });

  program
    .command('status')
    .description('show the project: classes, real samples per split, synthetic instances per status')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) =>
      withProject(command, 'read', (project) => {
        const status = projectStatus(project);
        console.log(options.json ? JSON.stringify(status, null, 2) : formatSummary(project.dir, status));
        return EXIT.ok;
      }),
    );

  const importCommand = program.command('import').description('import real or synthetic images');
  importCommand
    .command('real')
    .description(
      'import labelled real images from an ImageFolder (one sub-folder per class); new folder names become classes',
    )
    .argument('<dir>', 'the ImageFolder')
    .addOption(new Option('--split <split>', 'which split they belong to').choices(SPLITS).default('train'))
    .addOption(chunkSizeOption())
    .action(async (dir: string, options: { split: Split; chunkSize: number }, command: Command) =>
      withProject(command, 'write', async (project) => {
        const report = await withImportProgress((onProgress) =>
          importReal(project, dir, options.split, { onProgress, chunkSize: options.chunkSize }),
        );
        console.log(`Imported ${report.imported} real images into the ${options.split} split.`);
        if (report.classesCreated.length > 0) console.log(`New classes: ${report.classesCreated.join(', ')}`);
        printSkipped(report.skipped);
        return report.skipped.length > 0 ? EXIT.skipped : EXIT.ok;
      }),
    );
  importCommand
    .command('synthetic')
    .description(
      "import synthetic images from an ImageFolder whose folder names are their labels (classes of the project), with optional metadata.jsonl (file_name, label: the folder's, pseudo_label: the class it was made for, which differs after a relabel, prompt, seed, generator, scores...), as `winnow export` writes it",
    )
    .argument('<dir>', 'the ImageFolder')
    .addOption(chunkSizeOption())
    .action(async (dir: string, options: { chunkSize: number }, command: Command) =>
      withProject(command, 'write', async (project) => {
        const report = await withImportProgress((onProgress) =>
          importSynthetic(project, dir, { onProgress, chunkSize: options.chunkSize }),
        );
        console.log(`Imported ${report.imported} synthetic instances (run ${report.runId}).`);
        printSkipped(report.skipped);
        return report.skipped.length > 0 ? EXIT.skipped : EXIT.ok;
      }),
    );

  program
    .command('export')
    .description(
      'export instances as an ImageFolder with a Hugging Face metadata.jsonl, CSV and JSONL manifests with every score and the provenance, and a COCO-style classification JSON',
    )
    .argument('<dest>', 'a new or empty folder')
    .addOption(
      new Option('--status <status>', 'which instances, by the curated decision')
        .choices(['accepted', 'rejected', 'pending', 'all'])
        .default('accepted'),
    )
    .addOption(new Option('--format <formats...>', 'which formats (default: all)').choices(EXPORT_FORMATS))
    .option('--class <names...>', 'only instances with these labels (as curated: after relabels)')
    .option('--min-score <s>', 'only instances whose default ranking (quality) is at least this', number('float'))
    .option('--min-contribution <c>', 'only instances whose cosine contribution is at least this', number('float'))
    .action(
      async (
        dest: string,
        options: {
          status: 'accepted' | 'rejected' | 'pending' | 'all';
          format?: ExportFormat[];
          class?: string[];
          minContribution?: number;
          minScore?: number;
        },
        command: Command,
      ) =>
        withProject(command, 'read', async (project) => {
          const labelIds = options.class?.map((name) => {
            const found = findClass(project.db, name);
            if (found === undefined)
              throw new WinnowError(
                `"${name}" is not a class of this project.`,
                'See `winnow status` for the classes.',
              );
            return found.id;
          });
          const progress = stagedProgress('export');
          const summary = await exportDataset(project, dest, {
            onProgress: (done, total) => progress.onProgress(done, total, 'write'),
            status: options.status,
            ...(options.format ? { formats: options.format } : {}),
            ...(labelIds ? { labelIds } : {}),
            ...(options.minContribution === undefined ? {} : { minContribution: options.minContribution }),
            ...(options.minScore === undefined ? {} : { minScore: options.minScore }),
          }).finally(() => progress.stop());
          console.log(
            `Exported ${summary.instances} ${options.status === 'all' ? '' : `${options.status} `}instances to ${summary.destination}`,
          );
          for (const [label, n] of Object.entries(summary.perClass)) console.log(`  ${label}: ${n}`);
          console.log(`Files: ${summary.files.join(', ')}${summary.files.length > 0 ? '' : '(none)'}`);
          return EXIT.ok;
        }),
    );

  addModelCommands(program, withProject);
  addLearnCommands(program, withProject);
  addServeCommand(program);
  addIssuesCommand(program, withProject);
  addRemedyCommand(program, withProject);
  addAuditCommand(program, withProject);
  addWorkerCommand(program);
  return program;
}

/** `--chunk-size`: how many files an import reads, stores and stages at a time (its memory). */
function chunkSizeOption(): Option {
  return new Option('--chunk-size <n>', 'files read and staged at a time (bounds the memory an import uses)')
    .argParser(number('int', 1))
    .default(DEFAULT_IMPORT_CHUNK);
}

/** Runs an import with a progress bar on stderr: one for reading the files, one for committing them. */
async function withImportProgress<T>(run: (onProgress: ImportProgress) => Promise<T>): Promise<T> {
  const progress = stagedProgress('import');
  try {
    return await run(progress.onProgress);
  } finally {
    progress.stop();
  }
}

/** Runs one command line and returns its exit code (see EXIT); prints, never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const outcome: { code: number } = { code: EXIT.ok };
  try {
    await buildProgram(withProjectFor(outcome)).parseAsync([...argv], { from: 'user' });
    return outcome.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    printError(error);
    return EXIT.failed;
  }
}
