import { type Command, Option } from 'commander';
import type { LabelIssues, Responses } from '../../shared/api.ts';
import { labelIssues, topDisagreements } from '../service/labelIssues.ts';
import { EXIT, formatTable } from './output.ts';
import { number } from './parse.ts';
import type { WithProject } from './withProject.ts';

type Status = 'pending' | 'accepted' | 'rejected';

/**
 * `winnow issues`: the label issues matrix (pseudo-label rows × suggested-label columns, disagreements
 * marked *) and the disagreements the head is surest of, as the workstation's Label issues screen shows them.
 */
export function addIssuesCommand(program: Command, withProject: WithProject): void {
  program
    .command('issues')
    .description(
      "show where the scoring head's suggested label (its most probable class, out-of-sample) disagrees with the pseudo-label",
    )
    .addOption(
      new Option('--status <status>', 'only instances with this curated decision').choices([
        'pending',
        'accepted',
        'rejected',
      ]),
    )
    .option('--top <n>', 'how many disagreements to list, surest first', number('int', 0), 10)
    .option('--json', 'print JSON')
    .action(async (options: { status?: Status; top: number; json?: boolean }, command: Command) =>
      withProject(command, 'read', (project) => {
        const matrix = labelIssues(project.db, options.status);
        const top =
          options.top > 0 ? topDisagreements(project.db, options.top, options.status) : { total: 0, items: [] };
        console.log(
          options.json
            ? JSON.stringify({ ...matrix, top: top.items }, null, 2)
            : formatIssues(matrix, top, options.status),
        );
        return EXIT.ok;
      }),
    );
}

function formatIssues(m: LabelIssues, top: Responses['labelIssueInstances'], status: Status | undefined): string {
  const of = status ? `${status} ` : '';
  const summary = `${m.suggested} scored ${of}instances, ${m.disagreements} with a suggested label other than their pseudo-label${
    m.unsuggested > 0 ? ` (${m.unsuggested} not scored yet)` : ''
  }.`;
  if (m.suggested === 0) return `${summary}\nScore the project first: winnow score, or winnow run.`;
  const count = new Map(m.cells.map((c) => [`${c.labelId}:${c.suggestedId}`, c.count]));
  const cell = (row: number, column: number) => {
    const n = count.get(`${row}:${column}`) ?? 0;
    return n === 0 ? '.' : row === column ? String(n) : `*${n}`;
  };
  const name = new Map(m.classes.map((c) => [c.id, c.name]));
  const table = formatTable([
    ['pseudo-label \\ suggested', ...m.classes.map((c) => c.name)],
    ...m.classes.map((r) => [r.name, ...m.classes.map((c) => cell(r.id, c.id))]),
  ]);
  const lines = top.items.map(
    (i) =>
      `  #${i.id}  ${name.get(i.labelId)} → ${name.get(i.suggestion.labelId)}  (p = ${i.suggestion.probability.toFixed(3)})`,
  );
  return [
    summary,
    'Rows: pseudo-label; columns: suggested label; * marks a disagreement.',
    '',
    table,
    ...(lines.length > 0
      ? [
          '',
          `Top ${lines.length} of ${top.total} disagreements, the surest first (pseudo-label → suggested):`,
          ...lines,
        ]
      : []),
  ].join('\n');
}
