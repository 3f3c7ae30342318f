import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { curate } from '../../src/main/store/curation.ts';
import { listInstances } from '../../src/main/store/instances.ts';
import { initProject } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { openProject } from '../../src/main/store/project.ts';

const WRITER = resolve(import.meta.dirname, '../helpers/projectWriter.ts');

/** Runs the writer script in its own Node process; resolves with its exit code and parsed last line. */
function start(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [WRITER, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<Record<string, unknown>>((resolveDone, reject) =>
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolveDone({ code, ...(JSON.parse(last) as Record<string, unknown>) });
      } catch {
        reject(new Error(`writer exited ${code}: ${out}\n${err}`));
      }
    }),
  );
  return { child, done };
}

async function until(file: string): Promise<void> {
  while (!existsSync(file)) await delay(10);
}

/** A project with 2 real images of one class and 2 synthetic instances of it. */
async function project(): Promise<{ dir: string; work: string }> {
  const work = tempDir();
  const dir = join(work, 'p');
  await makeImageFolder(join(work, 'real'), { shirt: 2 }, 1);
  await makeImageFolder(join(work, 'synthetic'), { shirt: 2 }, 100);
  const p = initProject(dir);
  await importReal(p, join(work, 'real'), 'train');
  await importSynthetic(p, join(work, 'synthetic'));
  curate(p.db, { instanceIds: listInstances(p.db).map((i) => i.id), action: 'accept' });
  p.close();
  return { dir, work };
}

/**
 * One process holds the write lock (as a run's commit or another import does) while a second one
 * writes: the second must wait for the lock and succeed, not fail with "database is locked".
 */
async function writeWhileLocked(
  op: string,
  extra: string[] = [],
  { hold = 'hold', env = {} }: { hold?: string; env?: Record<string, string> } = {},
) {
  const { dir, work } = await project();
  const held = join(work, 'held');
  const attempt = join(work, 'attempt');
  const holder = start([hold, dir, held, attempt]);
  await until(held);
  const writer = start([op, dir, attempt, ...extra], env);
  const [h, w] = await Promise.all([holder.done, writer.done]);
  return { dir, work, holder: h, writer: w };
}

describe('writers in different processes', () => {
  it('curate waits for another process holding the write lock, then succeeds', async () => {
    const { dir, holder, writer } = await writeWhileLocked('curate');
    expect(writer).toMatchObject({ ok: true, code: 0 });
    expect(writer.finishedAt as number).toBeGreaterThanOrEqual(holder.committedAt as number);
    const p = openProject(dir);
    expect(listInstances(p.db).map((i) => i.override)).toEqual(['rejected', 'rejected']);
    p.close();
  }, 30_000);

  it("waits past its busy timeout while the lock's holder is a live import's commit, then succeeds", async () => {
    // The holder keeps the lock 1.5 s after the write starts; the writer's own timeout is 0.3 s.
    const short = { WRITER_BUSY_TIMEOUT_MS: '300' };
    const { holder, writer } = await writeWhileLocked('curate', [], { hold: 'hold-import-commit', env: short });
    expect(writer).toMatchObject({ ok: true, code: 0 });
    expect(writer.finishedAt as number).toBeGreaterThanOrEqual(holder.committedAt as number);
    // Any other holder: the write fails after its timeout, saying so, and writes nothing.
    const other = await writeWhileLocked('curate', [], { env: short });
    expect(other.writer).toMatchObject({ ok: false });
    expect(other.writer.error).toMatch(
      /^Another process held the write lock of \S+winnow\.db for more than 0\.3 s; nothing of this change was written\./,
    );
    const p = openProject(other.dir);
    expect(listInstances(p.db).map((i) => i.override)).toEqual(['accepted', 'accepted']);
    p.close();
  }, 30_000);

  it('undo waits for another process holding the write lock, then succeeds', async () => {
    const { dir, holder, writer } = await writeWhileLocked('undo');
    expect(writer).toMatchObject({ ok: true, code: 0 });
    expect(writer.finishedAt as number).toBeGreaterThanOrEqual(holder.committedAt as number);
    const p = openProject(dir);
    expect(listInstances(p.db).map((i) => i.override)).toEqual([null, null]);
    p.close();
  }, 30_000);

  it('import real waits for another process holding the write lock, then imports everything', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'more'), { shirt: 3, coat: 2 }, 200);
    const { dir, holder, writer } = await writeWhileLocked('import-real', [join(work, 'more')]);
    expect(writer).toMatchObject({ ok: true, code: 0 });
    expect(writer.finishedAt as number).toBeGreaterThanOrEqual(holder.committedAt as number);
    const p = openProject(dir);
    expect(listRealSamples(p.db, 'train')).toHaveLength(2 + 5);
    p.close();
  }, 30_000);

  it('import synthetic waits for another process holding the write lock, then imports everything', async () => {
    const work = tempDir();
    await makeImageFolder(join(work, 'more'), { shirt: 3 }, 300);
    const { dir, holder, writer } = await writeWhileLocked('import-synthetic', [join(work, 'more')]);
    expect(writer).toMatchObject({ ok: true, code: 0 });
    expect(writer.finishedAt as number).toBeGreaterThanOrEqual(holder.committedAt as number);
    const p = openProject(dir);
    expect(listInstances(p.db)).toHaveLength(2 + 3);
    p.close();
  }, 30_000);
});
