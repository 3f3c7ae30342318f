import type { Command } from 'commander';
import { openProject, type Project } from '../store/project.ts';
import { resolveProjectDir } from '../workspace.ts';

export type WithProject = (command: Command, action: (project: Project) => Promise<number> | number) => Promise<void>;

/** Opens the command's project (--project, $WINNOW_PROJECT, cwd or current), runs the action, closes it. */
export const withProject: WithProject = async (command, action) => {
  const project = openProject(resolveProjectDir(command.optsWithGlobals<{ project?: string }>().project));
  try {
    process.exitCode = await action(project);
  } finally {
    project.close();
  }
};
