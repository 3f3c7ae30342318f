import type { Command } from 'commander';
import { currentOrDemoProjectDir } from '../pipeline/demo.ts';
import { serve } from '../server/server.ts';
import { createEngine } from '../service/winnowService.ts';
import { openProject } from '../store/project.ts';
import { port, QUEUE_OPTION, queueUrl } from './parse.ts';
import { QueueChoice } from '../queue/queueChoice.ts';

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the workstation UI and its API over HTTP (for a browser, or an engine on a GPU server)')
    .option('--port <p>', 'port (0: any free port)', port, 7777)
    .option(
      '--host <h>',
      'address to listen on; keep 127.0.0.1 unless behind an SSH tunnel or proxy you trust',
      '127.0.0.1',
    )
    .option('--queue <url>', QUEUE_OPTION, queueUrl)
    .action(async (options: { port: number; host: string; queue?: string }, command: Command) => {
      // Checked (its form) before the project is opened; without --queue, the Run screen's choice.
      const queue = QueueChoice.forUser(options.queue);
      const explicit = command.optsWithGlobals<{ project?: string }>().project;
      const project = openProject(explicit ?? (await currentOrDemoProjectDir()));
      const engine = createEngine(project, { queue });
      const { url, server } = await serve({ engine, port: options.port, host: options.host }).catch(
        (error: unknown) => {
          project.close();
          throw error;
        },
      );
      console.log(`Serving ${project.dir}\nOpen ${url}\n(Ctrl-C stops the server.)`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          // A second Ctrl-C finds no handler and ends the process at once.
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      console.error(
        'Stopping: a run going is paused (resume it later), an import going is dropped. Ctrl-C again quits at once.',
      );
      // An open page's event stream never ends on its own: close() alone would wait for it.
      server.closeAllConnections();
      await Promise.all([new Promise((closed) => server.close(closed)), engine.close()]);
    });
}
