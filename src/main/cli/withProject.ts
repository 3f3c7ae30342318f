import type { Command } from 'commander';
import { openProject, openProjectToRead, type Project } from '../store/project.ts';
import { resolveProjectDir } from '../workspace.ts';

/** What a command does with its project: 'read' commands (status, export, …) never write to it. */
export type ProjectMode = 'read' | 'write';

export type WithProject = (
  command: Command,
  mode: ProjectMode,
  action: (project: Project) => Promise<number> | number,
) => Promise<void>;

/**
 * Opens a command's project (--project, $WINNOW_PROJECT, cwd or current), runs the action, closes
 * it, and records the action's exit code in `outcome` (not in process.exitCode, so that main() can
 * run in-process, e.g. in tests).
 */
export function withProjectFor(outcome: { code: number }): WithProject {
  return async (command, mode, action) => {
    const project = openFor(resolveProjectDir(command.optsWithGlobals<{ project?: string }>().project), mode);
    try {
      outcome.code = await action(project);
    } finally {
      project.close();
    }
  };
}

function openFor(dir: string, mode: ProjectMode): Project {
  return mode === 'read' ? openProjectToRead(dir) : openProject(dir);
}
