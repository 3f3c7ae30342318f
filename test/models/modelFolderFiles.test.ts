import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelId } from '../../src/main/models/modelId.ts';
import { addModel, listModels } from '../../src/main/models/modelRegistry.ts';
import { tempDir } from '../helpers/fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');
const CLIP = resolve(import.meta.dirname, '../fixtures/models/tiny-clip');
const hashOf = (id: string) => id.split('@')[1];

/** A copy of the tiny CLIP folder to spoil. */
function clipCopy(): string {
  const dir = join(tempDir(), 'clip');
  cpSync(CLIP, dir, { recursive: true });
  return dir;
}

/**
 * The folder as a Hugging Face cache snapshot lays it out: every file a symbolic link into a blob
 * store, named by content, sub-folders real.
 */
function snapshotOf(source: string): string {
  const root = tempDir();
  const blobs = join(root, 'blobs');
  const snapshot = join(root, 'snapshots', 'abc123');
  mkdirSync(blobs, { recursive: true });
  let n = 0;
  const copy = (from: string) => {
    for (const name of readdirSync(from)) {
      const path = join(from, name);
      const target = join(snapshot, relative(source, path));
      if (statSync(path).isDirectory()) {
        mkdirSync(target, { recursive: true });
        copy(path);
      } else {
        const blob = join(blobs, `blob${n++}`);
        cpSync(path, blob);
        mkdirSync(join(target, '..'), { recursive: true });
        symlinkSync(relative(join(target, '..'), blob), target);
      }
    }
  };
  copy(source);
  return snapshot;
}

/** `winnow models add` in its own process, killed if it hangs. */
function cliAdd(folder: string) {
  const home = tempDir();
  const result = spawnSync(process.execPath, [BIN, 'models', 'add', folder, '--name', 'm'], {
    env: { ...process.env, WINNOW_HOME: home, WINNOW_PROJECT: '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, signal: result.signal, stderr: result.stderr, home };
}

const mkfifo = (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0);

describe('model folders with links and special files', () => {
  it('hashes files behind symbolic links by their content (Hugging Face cache snapshots)', async () => {
    const snapshot = snapshotOf(CLIP);
    expect(hashOf(await modelId(snapshot))).toBe(hashOf(await modelId(CLIP)));
    const home = tempDir();
    const model = await addModel(snapshot, 'snap', { WINNOW_HOME: home });
    expect(hashOf(model.id)).toBe(hashOf(await modelId(CLIP)));
    expect(model.sizeBytes).toBeGreaterThan(0);
  }, 60_000);

  it.skipIf(process.platform === 'win32')(
    'refuses a named pipe in place of a config or a model, quickly and without opening it',
    () => {
      for (const file of ['preprocessor_config.json', 'text_model.onnx', 'extra.bin']) {
        const dir = clipCopy();
        rmSync(join(dir, file), { force: true });
        mkfifo(join(dir, file));
        const result = cliAdd(dir);
        expect(result.signal, `${file}: models add hung`).toBeNull();
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`${file} is a named pipe (FIFO), not a regular file`);
        expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
        expect(listModels({ WINNOW_HOME: result.home })).toEqual([]);
      }
    },
    120_000,
  );

  it.skipIf(process.platform === 'win32')(
    'refuses links to a named pipe, links to nothing and link loops, naming each',
    async () => {
      const dir = clipCopy();
      mkfifo(join(dir, '..', 'pipe'));
      symlinkSync('../pipe', join(dir, 'to-pipe'));
      symlinkSync('gone.json', join(dir, 'dangling.json'));
      symlinkSync('.', join(dir, 'up'));
      symlinkSync('self', join(dir, 'self'));
      renameSync(join(dir, 'tokenizer_config.json'), join(dir, 'real_tokenizer_config.json'));
      symlinkSync('real_tokenizer_config.json', join(dir, 'tokenizer_config.json'));
      const error = await addModel(dir, 'bad', { WINNOW_HOME: tempDir() }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/to-pipe is a named pipe \(FIFO\), not a regular file/);
      expect((error as Error).message).toMatch(/dangling\.json is a symbolic link to nothing/);
      expect((error as Error).message).toMatch(/up links back to a folder that contains it/);
      expect((error as Error).message).toMatch(/self is a symbolic link loop/);
      expect((error as Error).message).not.toMatch(/tokenizer_config/); // a link to a regular file is fine
      await expect(modelId(dir)).rejects.toThrow(/dangling\.json is a symbolic link to nothing/);
    },
    60_000,
  );
});
