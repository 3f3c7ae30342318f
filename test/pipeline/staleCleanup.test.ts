import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/main/pipeline/demo.ts';
import { QUIET_STORE_MS } from '../../src/main/store/crashLeftovers.ts';
import { writeTransaction } from '../../src/main/store/database.ts';
import { beginPendingImport, dropPendingImport } from '../../src/main/store/importStaging.ts';
import { leaseOf } from '../../src/main/store/leases.ts';
import { openProject } from '../../src/main/store/project.ts';
import { createRun, finishRun, getRun, listRuns } from '../../src/main/store/runs.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { writeTinyResources } from '../helpers/tinyModels.ts';

const bin = resolve(import.meta.dirname, '../../bin/winnow.js');
const ORPHAN = 'ab'.repeat(32);
const longAgo = (Date.now() - 2 * QUIET_STORE_MS) / 1000;

/** What a killed import, thumbnail write and export leave: a temp file, an orphan PNG, a partial export. */
function leaveLeftovers(dir: string, age: number | null): string[] {
  const prefix = join(dir, 'images', 'ab');
  mkdirSync(prefix, { recursive: true });
  mkdirSync(join(dir, 'exports', '.set.partial-0123abcd', 'images', 'shirt'), { recursive: true });
  const files = [
    join(prefix, `${ORPHAN}.png.0a1b2c3d4e5f.tmp`),
    join(prefix, `${ORPHAN}.png`),
    join(dir, 'exports', '.set.partial-0123abcd', 'images', 'shirt', 'x.png'),
  ];
  for (const f of files) writeFileSync(f, 'left by a killed process');
  if (age !== null)
    for (const p of [
      ...files,
      join(dir, 'exports', '.set.partial-0123abcd', 'images', 'shirt'),
      join(dir, 'exports', '.set.partial-0123abcd', 'images'),
      join(dir, 'exports', '.set.partial-0123abcd'),
    ])
      utimesSync(p, age, age);
  // Every store folder quiet for longer than QUIET_STORE_MS (no import can still be writing).
  if (age !== null)
    for (const d of readdirSync(join(dir, 'images')).filter((n) => /^[0-9a-f]{2}$/.test(n)))
      utimesSync(join(dir, 'images', d), age, age);
  return [files[0]!, files[1]!, join(dir, 'exports', '.set.partial-0123abcd')];
}

describe('what killed processes leave is cleaned on the next open', () => {
  it('a SIGKILLed `winnow generate` shows as interrupted; stale temp files, orphan PNGs and partial exports go', async () => {
    const resources = writeTinyResources(tempDir());
    const env = { ...process.env, WINNOW_RESOURCES: resources, WINNOW_HOME: join(tempDir(), 'home') };
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const child = spawn(
      process.execPath,
      [bin, 'generate', '--project', dir, '--class', 'shirt', '--count', '100000', '--batch', '8', '--steps', '2'],
      { env, stdio: 'ignore' },
    );
    // Kill it once it has committed some images: its run is `running`, its lease held by a live pid.
    const db = new Database(join(dir, 'winnow.db'), { readonly: true, fileMustExist: true });
    await new Promise<void>((done, fail) => {
      const poll = setInterval(() => {
        if (
          (db.prepare("SELECT count(*) AS n FROM instances WHERE source = 'generated'").get() as { n: number }).n > 0
        ) {
          clearInterval(poll);
          done();
        }
      }, 20);
      child.on('exit', () => fail(new Error('generate finished before it could be killed')));
    });
    const during = openProject(dir);
    expect(getRun(during.db, 1)?.status).toBe('running'); // a live worker's run is left alone
    during.close();
    child.kill('SIGKILL');
    await new Promise((done) => child.on('exit', done));
    db.close();

    const leftovers = leaveLeftovers(dir, longAgo);
    const project = openProject(dir);
    expect(getRun(project.db, 1)).toMatchObject({ kind: 'generate', status: 'interrupted' });
    expect(getRun(project.db, 1)?.error).toMatch(
      new RegExp(`its process \\(${child.pid} on .+\\) stopped without finishing it`),
    );
    expect(leaseOf(project.db, 1)).toBeUndefined();
    for (const path of leftovers) expect(existsSync(path), path).toBe(false);
    // Every image the project records is still there.
    const hashes = project.db.prepare('SELECT hash FROM images').all() as { hash: string }[];
    expect(hashes.length).toBeGreaterThan(0);
    for (const { hash } of hashes) expect(existsSync(project.images.pathOf(hash))).toBe(true);
    project.close();
  });

  it('nothing is removed while a live process holds a lease on a run, nor anything recent', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    const worker = openProject(dir);
    const runId = createRun(worker.db, 'generate', {});
    const old = leaveLeftovers(dir, longAgo);
    const reopened = openProject(dir);
    expect(getRun(reopened.db, runId)?.status).toBe('running');
    for (const path of old) expect(existsSync(path), path).toBe(true);
    reopened.close();

    // The worker done, old leftovers go; a fresh temp file (a writer may be mid-rename) stays.
    finishRun(worker.db, runId, 'done');
    worker.close();
    const fresh = join(dir, 'images', 'cd', `${'cd'.repeat(32)}.png.ffffffffffff.tmp`);
    mkdirSync(join(dir, 'images', 'cd'), { recursive: true });
    writeFileSync(fresh, 'being written');
    const later = openProject(dir);
    for (const path of old.filter((p) => !p.endsWith('.png'))) expect(existsSync(path), path).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    // The store just changed (the fresh file): orphans wait until it has been quiet for an hour.
    expect(existsSync(old[1]!)).toBe(true);
    expect(listRuns(later.db).map((r) => r.status)).toEqual(['done']);
    later.close();
  });

  it('an image a live import counts on is kept, though the store looks quiet, until the import ends', async () => {
    const dir = join(tempDir(), 'demo');
    (await createDemoProject(dir)).close();
    // A re-import finds the file a killed import stored an hour ago and does not write it again:
    // the store stays quiet, and the file has no `images` row until the import commits.
    const importer = openProject(dir);
    const importId = writeTransaction(importer.db, () => beginPendingImport(importer.db));
    const [, orphan] = leaveLeftovers(dir, longAgo);
    const other = openProject(dir);
    expect(existsSync(orphan!)).toBe(true);
    other.close();
    // The import ends (here without committing that file); an hour on (removing the temp file
    // changed its folder), the next open removes it.
    writeTransaction(importer.db, () => dropPendingImport(importer.db, importId));
    importer.close();
    utimesSync(dirname(orphan!), longAgo, longAgo);
    openProject(dir).close();
    expect(existsSync(orphan!)).toBe(false);
  });
});
