import { join } from 'node:path';
import { WinnowError } from '../errors.ts';
import { writeFileAtomic } from '../store/atomicFile.ts';
import { readUserFile, winnowHome } from '../workspace.ts';
import { checkQueueUrl, checkRedisReachable, displayUrl } from './redisConnection.ts';

/** Where an engine's queue URL comes from: `--queue` (fixed for the process) or the user's saved choice. */
export type QueueSource = 'flag' | 'setting';

/**
 * Which Redis queue an engine's runs generate through (the desktop app's, `winnow serve`'s).
 * `--queue` fixes it for the process; otherwise it is the user's choice on the Run screen, kept in
 * $WINNOW_HOME/queue.json (readable by the user only: the URL may carry a password) so that the
 * next start of the app uses it too. None: runs generate in this process, as without `--queue`.
 * A choice takes effect at the next run's start; the run going on keeps its own.
 */
export class QueueChoice {
  private readonly flag: string | undefined;
  /** Where the choice is saved; undefined: only in memory (an engine made without a user, in tests). */
  private readonly file: string | undefined;
  private memory: string | undefined;

  constructor(where: { flag?: string | undefined; file?: string | undefined } = {}) {
    this.flag = where.flag === undefined ? undefined : checkQueueUrl(where.flag);
    this.file = where.file;
  }

  /** The user's: `--queue` when given, else the choice saved in their WINNOW_HOME. */
  static forUser(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): QueueChoice {
    return new QueueChoice({ flag, file: join(winnowHome(env), 'queue.json') });
  }

  /** The queue runs use now, if any. */
  current(): { url: string; source: QueueSource } | undefined {
    if (this.flag !== undefined) return { url: this.flag, source: 'flag' };
    const saved = this.file === undefined ? this.memory : readSaved(this.file);
    return saved === undefined ? undefined : { url: saved, source: 'setting' };
  }

  /** The URL runs start with (undefined: in-process). */
  readonly url = (): string | undefined => this.current()?.url;

  /** What the API shows: the URL with any password hidden. */
  describe(): { url: string | null; source: QueueSource | null } {
    const now = this.current();
    return now === undefined ? { url: null, source: null } : { url: displayUrl(now.url), source: now.source };
  }

  /**
   * Chooses the queue for later runs (null: generate in-process again). A URL is checked first (its
   * form, then that Redis answers), so a choice that is saved is one a run can use.
   */
  async choose(url: string | null): Promise<void> {
    if (this.flag !== undefined)
      throw new WinnowError(
        `This engine was started with --queue ${displayUrl(this.flag)}, which every run uses.`,
        'Restart `winnow serve` without --queue to choose the queue on the Run screen.',
      );
    if (url !== null) await checkRedisReachable(checkQueueUrl(url));
    if (this.file === undefined) this.memory = url ?? undefined;
    else await writeFileAtomic(this.file, `${JSON.stringify({ url }, null, 2)}\n`, { mode: 0o600 });
  }
}

/** The saved URL; a missing or damaged file is no choice (runs generate in-process). */
function readSaved(file: string): string | undefined {
  const url = (readUserFile(file) as { url?: unknown } | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}
