import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initProject, openProject } from '../../src/main/store/project.ts';
import { getSetting } from '../../src/main/store/settings.ts';
import { tempDir } from '../helpers/fixtures.ts';

describe('project directory', () => {
  it('is created with winnow.db and images/, and reopens with its settings', () => {
    const dir = join(tempDir(), 'demo');
    initProject(dir, 'My dataset').close();
    expect(existsSync(join(dir, 'winnow.db'))).toBe(true);
    expect(existsSync(join(dir, 'images'))).toBe(true);
    const project = openProject(dir);
    expect(getSetting(project.db, 'name')).toBe('My dataset');
    project.close();
  });

  it('refuses a directory that is not a project, naming the fix', () => {
    const dir = tempDir();
    expect(() => openProject(dir)).toThrow(/is not a Winnow project \(it has no winnow.db\)/);
    expect(() => openProject(join(dir, 'missing'))).toThrow(/does not exist/);
  });

  it('refuses to init over a project or a non-empty directory', () => {
    const dir = tempDir();
    initProject(join(dir, 'p')).close();
    expect(() => initProject(join(dir, 'p'))).toThrow(/already a Winnow project/);
    writeFileSync(join(dir, 'file.txt'), 'x');
    expect(() => initProject(dir)).toThrow(/is not empty/);
  });

  it('creates missing parent folders, and names a folder it cannot create with the fix', () => {
    const dir = tempDir();
    initProject(join(dir, 'a', 'b', 'p')).close();
    expect(existsSync(join(dir, 'a', 'b', 'p', 'images'))).toBe(true);
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => initProject(join(dir, 'file', 'p'))).toThrow(
      new RegExp(`^Cannot create the folder ${join(dir, 'file', 'p')}: ENOTDIR`),
    );
    // Under /proc, Node's own recursive mkdir never returns; this refuses at once.
    if (process.platform === 'linux') expect(() => initProject('/proc/1/winnow-p')).toThrow(/Cannot create the folder/);
  });

  it('refuses a SQLite file that is not a Winnow database', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'winnow.db'), '');
    expect(() => openProject(dir)).toThrow(/not a Winnow database/);
  });
});
