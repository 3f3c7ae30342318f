import { type Command, Option } from 'commander';
import { auditSummary, drawAuditSample } from '../pipeline/audit.ts';
import { listClasses } from '../store/classes.ts';
import { EXIT } from './output.ts';
import { number } from './parse.ts';
import { stagedProgress } from './progress.ts';
import type { WithProject } from './withProject.ts';

const percent = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

/**
 * `winnow audit`: the Audit screen's sample and summary from the command line. It draws the next
 * stratified sample to judge (ids per class) and prints the pseudo-label accuracy the standing
 * verdicts give, per class and stratified over the population.
 */
export function addAuditCommand(program: Command, withProject: WithProject): void {
  program
    .command('audit')
    .description(
      "draw a stratified audit sample (instances not judged yet, one per score stratum of each class) and print the verdicts' pseudo-label accuracy per class and stratified",
    )
    .option('--per-class <n>', 'how many instances of each class the sample draws', number('int', 0), 20)
    .option('--seed <k>', 'the draw and the bootstrap seed', number('int', 0), 1)
    .addOption(
      new Option('--population <population>', 'all instances, or those an export of accepted ones holds')
        .choices(['all', 'exported'])
        .default('exported'),
    )
    .option('--json', 'print JSON')
    .action(
      async (
        options: { perClass: number; seed: number; population: 'all' | 'exported'; json?: boolean },
        command: Command,
      ) =>
        withProject(command, 'read', (project) => {
          const progress = stagedProgress('audit');
          const sample = (() => {
            try {
              return drawAuditSample(project.db, options.perClass, options.seed, options.population, (d, t) =>
                progress.onProgress(d, t, 'sample'),
              );
            } finally {
              progress.stop();
            }
          })();
          const summary = auditSummary(project.db, undefined, { population: options.population, seed: options.seed });
          if (options.json) {
            console.log(JSON.stringify({ sample: sample.map((i) => ({ id: i.id, labelId: i.labelId })), summary }));
            return EXIT.ok;
          }
          const names = new Map(listClasses(project.db).map((c) => [c.id, c.name]));
          console.log(`Sample to judge (${sample.length} instances, seed ${options.seed}):`);
          for (const [id, name] of names) {
            const ids = sample.filter((i) => i.labelId === id).map((i) => i.id);
            if (ids.length > 0) console.log(`  ${name}: ${ids.join(' ')}`);
          }
          console.log(`Verdicts on the ${options.population} population (${summary.stratified.size} instances):`);
          for (const c of summary.classes)
            console.log(`  ${c.name}: ${c.correct}/${c.audited} correct (${percent(c.accuracy)}), ${c.size} instances`);
          console.log(
            `Stratified accuracy: ${percent(summary.stratified.accuracy)} (95% ${percent(summary.stratified.low)}–${percent(summary.stratified.high)})`,
          );
          return EXIT.ok;
        }),
    );
}
