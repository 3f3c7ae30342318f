import { stat } from 'node:fs/promises';
import type { ImportJob, ImportState, ImportSummary, Request } from '../../shared/api.ts';
import { WinnowError } from '../errors.ts';
import { BackgroundTask, failureOf } from './backgroundTask.ts';
import { importReal } from '../pipeline/importReal.ts';
import { importSynthetic } from '../pipeline/importSynthetic.ts';
import type { ImportOptions, ImportReport } from '../pipeline/report.ts';
import type { Project } from '../store/project.ts';
import { type ClassSummary, summarize } from '../store/summary.ts';

/** Skipped files listed in a report; the rest are counted (a broken folder can skip thousands). */
const MAX_LISTED_SKIPS = 200;

/**
 * Checks a folder typed in the UI before an import reads it: the path is used exactly as typed
 * (no `.` or `..` segments to step elsewhere), and it must be a folder the engine can read. Each
 * refusal names the folder and what to do.
 */
export async function checkImportFolder(folder: string): Promise<void> {
  const step = folder.split(/[\\/]/).find((segment) => segment === '..' || segment === '.');
  if (step !== undefined)
    throw new WinnowError(
      `The folder path ${folder} contains "${step}".`,
      'Type the folder’s full path without "." or ".." segments.',
    );
  let info;
  try {
    info = await stat(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new WinnowError(
        `There is no folder ${folder}.`,
        'Check the path for typos. It is a path on the machine the engine runs on (with winnow serve: the server’s, not this browser’s).',
      );
    throw new WinnowError(`Cannot read the folder ${folder} (${code ?? String(error)}).`, 'Check its permissions.');
  }
  if (!info.isDirectory())
    throw new WinnowError(
      `${folder} is a file, not a folder.`,
      'Give the folder that holds one sub-folder per class (an ImageFolder), not a file in it.',
    );
}

/** Images per class: real ones in a split, or synthetic instances. */
function countsByClass(project: Project, job: ImportJob): Map<string, number> {
  const count = (c: ClassSummary) =>
    job.split === null ? c.synthetic.pending + c.synthetic.accepted + c.synthetic.rejected : c.real[job.split];
  return new Map(summarize(project.db).classes.map((c) => [c.name, count(c)]));
}

function summaryOf(
  report: ImportReport & { runId?: number },
  before: Map<string, number>,
  after: Map<string, number>,
): ImportSummary {
  return {
    imported: report.imported,
    classesCreated: report.classesCreated,
    perClass: [...after].map(([name, n]) => ({ name, added: n - (before.get(name) ?? 0) })).filter((c) => c.added > 0),
    skipped: report.skipped.slice(0, MAX_LISTED_SKIPS).map((s) => ({ path: s.path, reason: s.reason })),
    skippedCount: report.skipped.length,
    runId: report.runId ?? null,
  };
}

/**
 * The open project's import job (one at a time), started from the UI: `winnow import real|synthetic`
 * in the background, its progress (files read of those found) and its report kept for `importState`.
 */
export class Imports {
  private current: ImportState = { state: 'idle' };
  private readonly task = new BackgroundTask();

  private readonly project: Project;
  /** Whether a run is going: an import then waits, since the loop reads what an import adds. */
  private readonly runGoing: () => boolean;

  constructor(project: Project, runGoing: () => boolean) {
    this.project = project;
    this.runGoing = runGoing;
  }

  get state(): ImportState {
    return this.current;
  }

  get running(): boolean {
    return this.current.state === 'running';
  }

  /** Checks the request and the folder, then imports in the background (`state` follows it). */
  async start({ kind, folder, split }: Request<'importStart'>): Promise<void> {
    if (this.current.state === 'running')
      throw new WinnowError(`An import of ${this.current.job.folder} is going.`, 'Wait until it is done.');
    if (this.runGoing())
      throw new WinnowError('A run is going in this project.', 'Pause or cancel it on the Run screen, then import.');
    if (kind === 'synthetic' && split !== undefined)
      throw new WinnowError(
        'A split is for real images only.',
        'Leave the split out for synthetic images (they are not split).',
      );
    await checkImportFolder(folder);
    const job: ImportJob = { kind, folder, split: kind === 'real' ? (split ?? 'train') : null };
    const running = {
      state: 'running' as const,
      job,
      stage: 'read' as 'read' | 'commit',
      done: 0,
      total: null as number | null,
    };
    this.current = running;
    const onProgress = (done: number, total: number, stage: 'read' | 'commit') => {
      running.stage = stage;
      running.done = done;
      running.total = total;
    };
    this.task.start((signal) => this.run(job, { onProgress, signal }));
  }

  /** Stops the import going, if any, before its commit (nothing of it is kept); resolves once it has ended. */
  stop(): Promise<void> {
    return this.task.stop();
  }

  private async run(job: ImportJob, options: ImportOptions): Promise<void> {
    try {
      const before = countsByClass(this.project, job);
      const report =
        job.split === null
          ? await importSynthetic(this.project, job.folder, options)
          : await importReal(this.project, job.folder, job.split, options);
      this.current = { state: 'done', job, report: summaryOf(report, before, countsByClass(this.project, job)) };
    } catch (caught) {
      const stopped = new WinnowError(
        'The import was stopped before it finished; nothing of it was kept.',
        'Import the folder again.',
      );
      this.current = { state: 'failed', job, ...failureOf(caught, options.signal, stopped) };
    }
  }
}
