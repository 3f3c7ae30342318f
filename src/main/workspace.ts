import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { WinnowError } from './errors.ts';
import { writeFileAtomic } from './store/atomicFile.ts';
import { isProject } from './store/project.ts';

/**
 * Per-user state shared by the CLI and the app: which project is current. It lives in
 * $WINNOW_HOME, else $XDG_CONFIG_HOME/winnow, else ~/.config/winnow.
 */
export function winnowHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WINNOW_HOME) return resolve(env.WINNOW_HOME);
  return join(env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config'), 'winnow');
}

interface UserState {
  currentProject?: string;
  /** Most recent first. */
  recentProjects?: string[];
}

/**
 * A per-user JSON file's content; undefined when it is missing or damaged. Each such file holds only
 * a choice the user can make again (the current project, the queue), so a damaged one loses no data.
 */
export function readUserFile(file: string): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function readState(env: NodeJS.ProcessEnv): UserState {
  return (readUserFile(join(winnowHome(env), 'state.json')) ?? {}) as UserState;
}

export async function setCurrentProject(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const previous = readState(env);
  const current = resolve(dir);
  const recentProjects = [current, ...(previous.recentProjects ?? []).filter((d) => d !== current)].slice(0, 10);
  const state = { ...previous, currentProject: current, recentProjects };
  await writeFileAtomic(join(winnowHome(env), 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/**
 * The project a command works on: --project, else $WINNOW_PROJECT, else the working directory if it
 * is a project, else the current project (the last one `winnow init`, `open` or `demo` made current).
 */
export function resolveProjectDir(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  if (explicit) return resolve(explicit);
  if (env.WINNOW_PROJECT) return resolve(env.WINNOW_PROJECT);
  if (isProject(cwd)) return cwd;
  const current = readState(env).currentProject;
  if (current) return current;
  throw new WinnowError(
    'No project given, and there is no current project.',
    'Create one with `winnow init <dir>`, make one current with `winnow open <dir>`, or pass --project <dir>.',
  );
}

/** Projects made current lately, most recent first. */
export function recentProjects(env: NodeJS.ProcessEnv = process.env): string[] {
  return readState(env).recentProjects ?? [];
}
