import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { exportDataset } from '../../src/main/pipeline/exportDataset.ts';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { importSynthetic } from '../../src/main/pipeline/importSynthetic.ts';
import { initProject, openProject } from '../../src/main/store/project.ts';
import { listRealSamples } from '../../src/main/store/realSamples.ts';
import { makeImageFolder, tempDir } from '../helpers/fixtures.ts';
import { runUnprivileged } from '../helpers/unprivileged.ts';

const BIN = resolve(import.meta.dirname, '../../bin/winnow.js');
const READER = resolve(import.meta.dirname, '../helpers/readProject.ts');

/** What `fn` threw; fails the test if it threw nothing, or something that is not a WinnowError. */
function refusal(fn: () => unknown): WinnowError {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(WinnowError);
    return error as WinnowError;
  }
  throw new Error('expected a refusal');
}

/** A project folder whose winnow.db holds `bytes`, and its listing to compare with later. */
function projectWithDatabase(bytes: Buffer | string): { dir: string; files: () => string[] } {
  const dir = tempDir();
  writeFileSync(join(dir, 'winnow.db'), bytes);
  return { dir, files: () => readdirSync(dir).sort() };
}

/** A project with `n` real images of class "shirt" in its train split. */
async function projectWithImages(n: number): Promise<{ dir: string; work: string }> {
  const work = tempDir();
  const dir = join(work, 'p');
  await makeImageFolder(join(work, 'real'), { shirt: n });
  await makeImageFolder(join(work, 'synthetic'), { shirt: 2 }, 1000);
  const project = initProject(dir);
  await importReal(project, join(work, 'real'), 'train');
  await importSynthetic(project, join(work, 'synthetic'));
  project.close();
  return { dir, work };
}

describe('bad project files are refused with a message, and left as they were', () => {
  it('an empty winnow.db is refused without being converted to WAL', () => {
    const { dir, files } = projectWithDatabase('');
    const error = refusal(() => openProject(dir));
    expect(error.message).toMatch(/winnow\.db is empty: it is not a Winnow database/);
    expect(error.fix).toMatch(/backup/);
    expect(files()).toEqual(['winnow.db']);
    expect(statSync(join(dir, 'winnow.db')).size).toBe(0);
  });

  it('a winnow.db of garbage is refused, unchanged', () => {
    const garbage = Buffer.from('this is not SQLite at all, only some text\n'.repeat(200));
    const { dir, files } = projectWithDatabase(garbage);
    expect(refusal(() => openProject(dir)).message).toMatch(/winnow\.db is not a SQLite database/);
    expect(refusal(() => openProject(dir, { readonly: true })).message).toMatch(/is not a SQLite database/);
    expect(files()).toEqual(['winnow.db']);
    expect(readFileSync(join(dir, 'winnow.db')).equals(garbage)).toBe(true);
  });

  it('a SQLite file with a damaged header, and a winnow.db that is a folder, are refused', () => {
    const dir = join(tempDir(), 'p');
    initProject(dir).close();
    const db = readFileSync(join(dir, 'winnow.db'));
    db.writeUInt16BE(1000, 16); // page size 1000: not a power of two
    writeFileSync(join(dir, 'winnow.db'), db);
    expect(refusal(() => openProject(dir)).message).toMatch(/winnow\.db is damaged/);
    const folder = tempDir();
    mkdirSync(join(folder, 'winnow.db'));
    expect(refusal(() => openProject(folder)).message).toMatch(/winnow\.db is not a file/);
  });

  it('an images path that is a file is refused, naming it', () => {
    const dir = join(tempDir(), 'p');
    initProject(dir).close();
    const images = join(dir, 'images');
    rmSync(images, { recursive: true });
    writeFileSync(images, 'not a folder');
    expect(refusal(() => openProject(dir)).message).toContain(`${images} is not a folder`);
    expect(readFileSync(images, 'utf8')).toBe('not a folder');
  });

  it('a full database (SQLITE_FULL) fails the import with a message, and nothing of it is written', async () => {
    const { dir, work } = await projectWithImages(2);
    await makeImageFolder(join(work, 'more'), { shirt: 40, coat: 40 }, 100);
    const project = openProject(dir);
    // The size limit makes SQLite answer exactly as on a full disk (SQLITE_FULL).
    project.db.pragma(`max_page_count = ${project.db.pragma('page_count', { simple: true }) as number}`);
    const failed = await importReal(project, join(work, 'more'), 'train').catch((e: unknown) => e);
    expect(failed, String(failed)).toBeInstanceOf(WinnowError);
    expect((failed as WinnowError).message).toMatch(/is full .*nothing of this change was written/);
    expect(listRealSamples(project.db, 'train')).toHaveLength(2);
    project.close();
  });

  it('export to a path that is a file, or under a file, is refused naming the file', async () => {
    const { dir, work } = await projectWithImages(1);
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    const project = openProject(dir);
    await expect(exportDataset(project, file)).rejects.toThrow(`${file} is a file, not a folder`);
    await expect(exportDataset(project, join(file, 'out', 'deeper'))).rejects.toThrow(
      `cannot be made: ${file} is a file, not a folder`,
    );
    project.close();
    expect(readdirSync(work).sort()).toEqual(['a-file', 'p', 'real', 'synthetic']);
  });
});

describe('a project the user cannot write', () => {
  it('is inspected and exported elsewhere read-only, and left untouched', async () => {
    const { dir, work } = await projectWithImages(3);
    const exports = join(work, 'exports');
    mkdirSync(exports);
    const dest = join(exports, 'out');
    chmodSync(work, 0o755);
    const before = readdirSync(dir).sort();
    const mtime = statSync(join(dir, 'winnow.db')).mtimeMs;
    const result = runUnprivileged([READER, dir, dest], { allowWrite: [exports], denyWrite: [dir] });
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as {
      summary: { classes: { name: string }[] };
      exported: number;
      writable: string;
    };
    expect(out.summary.classes.map((c) => c.name)).toEqual(['shirt']);
    expect(out.exported).toBe(2);
    expect(readdirSync(join(dest, 'images', 'shirt')).filter((f) => f.endsWith('.png'))).toHaveLength(2);
    // Opened for writing, it says why it cannot be, as a message.
    expect(out.writable).toMatch(/^WinnowError: .*winnow\.db cannot be opened for writing/);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(statSync(join(dir, 'winnow.db')).mtimeMs).toBe(mtime);
  }, 60_000);

  it('`winnow status` and `winnow export` to elsewhere work on it from the CLI', async () => {
    const { dir, work } = await projectWithImages(2);
    const exports = join(work, 'exports');
    const home = join(work, 'home');
    mkdirSync(exports);
    mkdirSync(home);
    chmodSync(work, 0o755);
    const before = readdirSync(dir).sort();
    const mtime = statSync(join(dir, 'winnow.db')).mtimeMs;
    const env = { WINNOW_HOME: home, WINNOW_PROJECT: '' };
    const access = { allowWrite: [exports, home], denyWrite: [dir] };
    const status = runUnprivileged([BIN, 'status', '--json', '--project', dir], access, env);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { classes: { name: string }[] }).classes.map((c) => c.name)).toEqual([
      'shirt',
    ]);
    const exported = runUnprivileged(
      [BIN, 'export', join(exports, 'out'), '--status', 'all', '--project', dir],
      access,
      env,
    );
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toMatch(/Exported 2 instances/);
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(statSync(join(dir, 'winnow.db')).mtimeMs).toBe(mtime);
  }, 60_000);

  it('refuses, rather than show an old state, when commits wait in winnow.db-wal it cannot merge', async () => {
    const { dir, work } = await projectWithImages(1);
    // As a crash leaves it: the last commits only in the -wal file, no -shm.
    const writer = openProject(dir);
    writer.db.pragma('wal_autocheckpoint = 0');
    writer.db.prepare("INSERT INTO settings (key, value) VALUES ('late', '1')").run();
    const copy = join(work, 'copy');
    mkdirSync(copy);
    for (const f of ['winnow.db', 'winnow.db-wal']) writeFileSync(join(copy, f), readFileSync(join(dir, f)));
    writer.close();
    chmodSync(work, 0o755);
    const probe = `import { openProject } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/main/store/project.ts'))};
      try { openProject(process.argv[1], { readonly: true }); console.log('opened'); } catch (e) { console.log(e.message); }`;
    const result = runUnprivileged(['--input-type=module', '-e', probe, copy], { allowWrite: [], denyWrite: [copy] });
    expect(result.stdout).toMatch(/has changes not yet merged from .*winnow\.db-wal/);
    expect(readdirSync(copy).sort()).toEqual(['winnow.db', 'winnow.db-wal']);
  }, 60_000);

  it('names its image store when an import cannot write there, and imports nothing', async () => {
    const { dir, work } = await projectWithImages(1);
    await makeImageFolder(join(work, 'more'), { shirt: 3 }, 50);
    chmodSync(work, 0o755);
    const home = join(work, 'home');
    mkdirSync(home);
    const images = join(dir, 'images');
    const result = runUnprivileged(
      [BIN, 'import', 'real', join(work, 'more'), '--project', dir],
      { allowWrite: [home, dir, join(dir, 'winnow.db')], denyWrite: [images] },
      { WINNOW_HOME: home, WINNOW_PROJECT: '' },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`Cannot write to the project's image store ${images} \\((EACCES|EROFS)\\)`),
    );
    expect(result.stderr).not.toMatch(/more\/shirt.*cannot be read/); // the source files are not blamed
    chmodSync(images, 0o755);
    const project = openProject(dir);
    expect(listRealSamples(project.db, 'train')).toHaveLength(1);
    project.close();
  }, 60_000);
});
