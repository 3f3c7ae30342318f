import type { Command } from 'commander';
import { currentOrDemoProjectDir } from '../pipeline/demo.ts';
import { serve } from '../server/server.ts';
import { createEngine } from '../service/winnowService.ts';
import { openProject } from '../store/project.ts';
import { number } from './parse.ts';
import { WinnowError } from '../errors.ts';

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the workstation UI and its API over HTTP (for a browser, or an engine on a GPU server)')
    .option('--port <p>', 'port (0: any free port)', number('int', 0), 7777)
    .option(
      '--host <h>',
      'address to listen on; keep 127.0.0.1 unless behind an SSH tunnel or proxy you trust',
      '127.0.0.1',
    )
    .action(async (options: { port: number; host: string }, command: Command) => {
      const explicit = command.optsWithGlobals<{ project?: string }>().project;
      const project = openProject(explicit ?? (await currentOrDemoProjectDir()));
      const { url, server } = await serve({
        engine: createEngine(project),
        port: options.port,
        host: options.host,
      }).catch((error: unknown) => {
        project.close();
        throw listenError(error, options);
      });
      console.log(`Serving ${project.dir}\nOpen ${url}\n(Ctrl-C stops the server.)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => server.close(() => resolve()));
        process.once('SIGTERM', () => server.close(() => resolve()));
      });
      project.close();
    });
}

/** A refusal to listen, said in the command's terms; anything else is passed on as it is. */
function listenError(error: unknown, { port, host }: { port: number; host: string }): unknown {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return new WinnowError(
      `Port ${port} on ${host} is in use (another winnow serve, or another server).`,
      'Choose another port with --port <p>, or --port 0 for any free port.',
    );
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES')
    return new WinnowError(
      `Cannot listen on ${host}:${port} (${code === 'EACCES' ? 'permission denied' : 'not an address of this machine'}).`,
      'Keep --host 127.0.0.1, or give an address of this machine, and a --port above 1023.',
    );
  return error;
}
