import type { Command } from 'commander';
import { startWorker } from '../queue/worker.ts';
import { checkRedisReachable, displayUrl } from '../queue/redisConnection.ts';
import { EXIT } from './output.ts';
import { number, queueUrl } from './parse.ts';

export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      "take generation jobs from a queue on Redis (a coordinator's `winnow run --queue` or `generate --queue`), make them with this machine's models and GPU, and return the PNGs; runs until Ctrl-C",
    )
    .requiredOption('--queue <url>', 'the Redis URL: redis://[user:password@]host:port, or rediss:// for TLS', queueUrl)
    .option('--concurrency <n>', 'jobs at once (each a whole generator batch; 1 per GPU is usual)', number('int', 1), 1)
    .option(
      '--stall-seconds <s>',
      "how long a job may go without this worker's heartbeat before another worker takes it over",
      number('int', 1),
      30,
    )
    .action(async (options: { queue: string; concurrency: number; stallSeconds: number }) => {
      await checkRedisReachable(options.queue);
      const log = (line: string) => console.error(`${new Date().toISOString()} ${line}`);
      const worker = await startWorker(options.queue, {
        concurrency: options.concurrency,
        stallSeconds: options.stallSeconds,
        log,
      });
      log(`connected to ${displayUrl(options.queue)}; Ctrl-C stops after the jobs under way, twice stops now`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      log('stopping: finishing the jobs under way (Ctrl-C again stops now; their jobs go to other workers)');
      const now = () => {
        log('stopped without finishing');
        process.exit(EXIT.failed);
      };
      process.once('SIGINT', now);
      process.once('SIGTERM', now);
      await worker.close();
    });
}
