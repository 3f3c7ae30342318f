import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { afterAll } from 'vitest';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Whether Debian's redis-server is installed (CI installs it; the queue tests skip without it). */
export const hasRedis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** A port nothing listens on now, on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** A child process and everything it printed so far, with a way to wait for a line. */
export class Child {
  output = '';
  readonly exited: Promise<number | null>;
  readonly process: ChildProcess;

  constructor(process: ChildProcess) {
    this.process = process;
    started.push(process);
    process.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    process.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((done) => process.on('exit', (code) => done(code)));
  }

  /** Resolves when the output matches (checked as it arrives); rejects after `ms` with what it printed. */
  async waitFor(pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms; output:\n${this.output}`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.process.kill(signal);
    return this.exited;
  }
}

/** A throwaway Redis on loopback: no persistence, so stopping it loses the queue (as a crash might). */
export class RedisServer {
  private child: Child | undefined;
  readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = new Child(
      spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await this.child.waitFor(/Ready to accept connections/, 20_000);
  }

  async stop(): Promise<void> {
    await this.child?.kill('SIGKILL');
  }
}

/** `winnow …` as a child process with this environment. */
export function winnow(args: readonly string[], env: Record<string, string>): Child {
  return new Child(
    spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, WINNOW_PROJECT: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Runs `winnow …` to its end: exit code and output. */
export async function winnowDone(args: readonly string[], env: Record<string, string>) {
  const child = winnow(args, env);
  const code = await child.exited;
  return { code, output: child.output };
}
