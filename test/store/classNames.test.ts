import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WinnowError } from '../../src/main/errors.ts';
import { importReal } from '../../src/main/pipeline/importReal.ts';
import { addClass, checkClassName, findClass, listClasses, renameClass } from '../../src/main/store/classes.ts';
import { initProject } from '../../src/main/store/project.ts';
import { tempDir, writePng } from '../helpers/fixtures.ts';

// Names Windows gives to devices: an export folder named so cannot be created or read there, and
// a trailing dot is dropped ("shirt." would land in "shirt").
const WINDOWS_RESERVED = [
  'CON',
  'con',
  'Con',
  'PRN',
  'AUX',
  'NUL',
  'nul',
  'COM1',
  'com9',
  'COM0',
  'LPT1',
  'lpt9',
  'COM¹',
  'LPT³',
  'CONIN$',
  'conout$',
  'con.txt',
  'NUL.tar.gz',
  'aux.',
  'com1.png',
  'nul .txt',
  'shirt.',
  'sneaker..',
  't-shirt .',
];
const ALLOWED = [
  'console',
  'connector',
  'auxiliary',
  'nullable',
  'com10',
  'lpt',
  'com',
  'icon',
  'prn-2',
  'T-shirt',
  'a.b',
];

describe('class names that are folder names on Windows', () => {
  it(`refuses each of ${WINDOWS_RESERVED.length} reserved names or trailing dots, with the fix`, () => {
    for (const name of WINDOWS_RESERVED) {
      expect(() => checkClassName(name), name).toThrow(WinnowError);
    }
    expect(() => checkClassName('con.txt')).toThrow(/device name on Windows/);
    expect(() => checkClassName('shirt.')).toThrow(/ends with a dot/);
  });

  it('accepts names that only start like a device name', () => {
    for (const name of ALLOWED) expect(checkClassName(name), name).toBe(name);
  });

  it('keeps reserved names out of a real project, by hand and by an ImageFolder import', async () => {
    const project = initProject(join(tempDir(), 'p'));
    try {
      expect(() => addClass(project.db, { name: 'NUL' })).toThrow(/Class name "NUL" is a device name on Windows/);
      const folder = join(tempDir(), 'train');
      for (const [i, label] of ['shirt', 'CON', 'nul.txt', 'com1', 'coat.'].entries()) {
        mkdirSync(join(folder, label), { recursive: true });
        await writePng(join(folder, label, `${i}.png`), i);
      }
      const report = await importReal(project, folder, 'train');
      expect(report.classesCreated).toEqual(['shirt']);
      expect(report.imported).toBe(1);
      expect(report.skipped).toHaveLength(4);
      expect(listClasses(project.db).map((c) => c.name)).toEqual(['shirt']);
    } finally {
      project.close();
    }
  });

  it('keeps one class per folder on macOS and Windows: no two names differ only in Unicode case or composition', async () => {
    const project = initProject(join(tempDir(), 'p'));
    try {
      const apples = addClass(project.db, { name: 'Äpfel' });
      expect(() => addClass(project.db, { name: 'äpfel' })).toThrow(
        'Class "äpfel" already exists as "Äpfel" (one folder on macOS and Windows).',
      );
      // "café" with é as one character, and as e plus a combining accent (as macOS names files).
      const cafe = addClass(project.db, { name: 'cafe\u0301' });
      expect(cafe.name).toBe('caf\u00e9');
      expect(() => addClass(project.db, { name: 'CAF\u00c9' })).toThrow(/already exists as "café"/);
      expect(findClass(project.db, 'cafe\u0301')?.id).toBe(cafe.id);
      expect(findClass(project.db, 'ÄPFEL')?.id).toBe(apples.id);
      expect(() => renameClass(project.db, cafe.id, 'ÄPFEL')).toThrow(/already exists as "Äpfel"/);
      expect(renameClass(project.db, apples.id, 'äpfel').name).toBe('äpfel'); // its own name, recased
      expect(listClasses(project.db).map((c) => c.name)).toEqual(['äpfel', 'café']);
      // An ImageFolder import's folders that are one folder elsewhere go to one class.
      const folder = join(tempDir(), 'train');
      for (const [i, label] of ['Äpfel', 'ÄPFEL', 'cafe\u0301', 'CAFÉ'].entries()) {
        mkdirSync(join(folder, label), { recursive: true });
        await writePng(join(folder, label, `${i}.png`), i);
      }
      const report = await importReal(project, folder, 'train');
      expect([report.imported, report.classesCreated]).toEqual([4, []]);
      expect(listClasses(project.db).map((c) => c.name)).toEqual(['äpfel', 'café']);
    } finally {
      project.close();
    }
  });
});
